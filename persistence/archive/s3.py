"""The ``s3://bucket/prefix`` archive (boto3; AWS or any S3-compatible endpoint).

Layout under ``prefix``::

    <session>/audio.pcm          raw PCM16, built by an S3 multipart upload while streaming: a part is
                                 uploaded each time ``part_size_bytes`` (>= 5 MiB) are buffered
    <session>/audio.state.json   {"upload_id", "parts", "durable_seq", "tail_chunks", "assembled"}:
                                 rewritten after each part and checkpoint; a restarted process resumes
    <session>/audio.tail/NNNNNN  the PCM since the last part, one small object per ``checkpoint()``
                                 (deleted when the next part is uploaded)
    <session>/audio.flac|wav     the finished file
    <session>/audio.json         its ArchivedAudio description (written last: its presence = finished)
    <session>/upload/<name>      uploaded recordings

After a crash the frames appended since the last checkpoint are lost: ``durable_seq`` says where to
replay the audio from (JetStream keeps it); acknowledge frames only after ``checkpoint()``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from persistence.archive.base import (
    NO_GROWTH,
    Archive,
    ArchivedAudio,
    ArchiveError,
    ArchiveNotFound,
    ArchiveUnavailable,
    ArchiveWriter,
    AudioFormat,
    audio_key,
    check_session_id,
    new_part,
)
from persistence.archive.encode import encode_pcm

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

MIN_PART_BYTES = 5 * 1024 * 1024  # S3's lower limit for every part but the last
_TRANSFER = TransferConfig(multipart_threshold=MIN_PART_BYTES * 2, multipart_chunksize=MIN_PART_BYTES * 2)


def _missing(exc: ClientError) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in {"NoSuchKey", "404", "NotFound", "NoSuchUpload"}


def make_client(endpoint_url: str, region: str, access_key_id: str, secret_access_key: str) -> S3Client:
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    client: S3Client = boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        config=config,
    )
    return client


class S3ArchiveWriter(ArchiveWriter):
    def __init__(self, archive: S3Archive, session_id: str) -> None:
        self.session_id = check_session_id(session_id)
        self._a = archive
        self._base = archive.key(f"{session_id}/audio")
        self._buffer = bytearray()  # PCM not yet in an uploaded part (at most one part)
        self._state: dict[str, Any] = {
            "upload_id": None,
            "parts": [],
            "flushed_bytes": 0,
            "durable_seq": -1,  # last frame in an uploaded part or a tail chunk
            "durable_frame_bytes": 0,  # and how much of it (a Finalize publishes a frame's start first)
            "tail_chunks": [],  # byte sizes of the tail chunk objects, in order
            "assembled": False,
        }
        self._finished = archive.info(session_id)
        stored = archive.get_json(f"{self._base}.state.json")
        if stored is not None:
            self._state.update(stored)
            if "durable_frame_bytes" not in stored:  # written before frames could grow: none grows
                self._state["durable_frame_bytes"] = NO_GROWTH
        for number, size in enumerate(self._state["tail_chunks"]):
            self._buffer += archive.get_bytes(self._tail_key(number))[:size]
        self._last_seq = int(self._state["durable_seq"])
        self._last_frame_bytes = int(self._state["durable_frame_bytes"])

    def _tail_key(self, number: int) -> str:
        return f"{self._base}.tail/{number:06d}"

    @property
    def last_seq(self) -> int:
        return self._last_seq

    @property
    def durable_seq(self) -> int:
        return int(self._state["durable_seq"])

    @property
    def pcm_bytes(self) -> int:
        return int(self._state["flushed_bytes"]) + len(self._buffer)

    def append(self, seq: int, pcm: bytes) -> bool:
        if self._finished is not None or self._state["assembled"]:
            raise ArchiveError(f"session {self.session_id} is already finalized")
        part = new_part(seq, pcm, self._last_seq, self._last_frame_bytes)
        if not part:
            return False
        self._buffer += part
        self._last_frame_bytes = len(part) if seq > self._last_seq else self._last_frame_bytes + len(part)
        self._last_seq = seq
        if len(self._buffer) >= self._a.part_size_bytes:
            self._upload_part()
        return True

    def _upload_part(self) -> None:
        client, bucket = self._a.client, self._a.bucket
        if not self._state["upload_id"]:
            created = client.create_multipart_upload(Bucket=bucket, Key=f"{self._base}.pcm")
            self._state["upload_id"] = created["UploadId"]
        number = len(self._state["parts"]) + 1
        done = client.upload_part(
            Bucket=bucket,
            Key=f"{self._base}.pcm",
            UploadId=self._state["upload_id"],
            PartNumber=number,
            Body=bytes(self._buffer),
        )
        self._state["parts"].append({"PartNumber": number, "ETag": done["ETag"]})
        self._state["flushed_bytes"] += len(self._buffer)
        self._state["durable_seq"] = self._last_seq
        self._state["durable_frame_bytes"] = self._last_frame_bytes
        stale = [self._tail_key(n) for n in range(len(self._state["tail_chunks"]))]
        self._state["tail_chunks"] = []
        self._buffer.clear()
        self._save_state()
        self._a.delete_keys(stale)  # after the state no longer names them

    def _save_state(self) -> None:
        self._a.put_bytes(f"{self._base}.state.json", json.dumps(self._state).encode())

    def checkpoint(self) -> None:
        """Make every appended frame durable: the bytes since the last checkpoint become one small tail
        object (two PUTs). Call it before acknowledging a batch of frames."""
        durable = (self.durable_seq, self._state["durable_frame_bytes"])
        if self._finished is not None or self._state["assembled"]:
            return
        if (self._last_seq, self._last_frame_bytes) == durable:
            return
        saved = sum(self._state["tail_chunks"])
        fresh = bytes(self._buffer[saved:])
        if fresh:
            self._a.put_bytes(self._tail_key(len(self._state["tail_chunks"])), fresh)
            self._state["tail_chunks"].append(len(fresh))
        self._state["durable_seq"] = self._last_seq
        self._state["durable_frame_bytes"] = self._last_frame_bytes
        self._save_state()

    def close(self) -> None:
        self.checkpoint()

    def finalize(self, fmt: AudioFormat | str = AudioFormat.FLAC) -> ArchivedAudio:
        if self._finished is not None:
            return self._finished
        fmt = AudioFormat(fmt)
        client, bucket = self._a.client, self._a.bucket
        if self._state["upload_id"] and not self._state["assembled"]:
            if self._buffer:  # the last part may be smaller than 5 MiB
                self._upload_part()
            client.complete_multipart_upload(
                Bucket=bucket,
                Key=f"{self._base}.pcm",
                UploadId=self._state["upload_id"],
                MultipartUpload={"Parts": self._state["parts"]},
            )
            self._state["assembled"] = True
            self._save_state()
        chunks: Iterator[bytes] = (
            self._a.iter_object(f"{self._base}.pcm")
            if self._state["assembled"]
            else iter([bytes(self._buffer)])
        )
        key = audio_key(self.session_id, fmt)
        with tempfile.TemporaryDirectory(prefix="ayka-archive-") as tmp:
            path = Path(tmp) / f"audio.{fmt.value}"
            encoded = encode_pcm(chunks, path, fmt)
            content_type = "audio/flac" if fmt is AudioFormat.FLAC else "audio/wav"
            client.upload_file(
                str(path), bucket, self._a.key(key), ExtraArgs={"ContentType": content_type}, Config=_TRANSFER
            )
            audio = ArchivedAudio(key, fmt.value, path.stat().st_size, encoded.pcm_sha256, encoded.duration_s)
        self._a.put_bytes(self._a.key(f"{self.session_id}/audio.json"), json.dumps(asdict(audio)).encode())
        leftovers = [self._tail_key(n) for n in range(len(self._state["tail_chunks"]))]
        self._a.delete_keys([*leftovers, f"{self._base}.pcm", f"{self._base}.state.json"])
        self._finished = audio
        self._buffer.clear()
        return audio


class S3Archive(Archive):
    def __init__(
        self, client: S3Client, bucket: str, prefix: str = "", part_size_bytes: int = MIN_PART_BYTES
    ) -> None:
        if part_size_bytes < MIN_PART_BYTES:
            raise ValueError(f"S3 multipart parts must be at least {MIN_PART_BYTES} bytes")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.part_size_bytes = part_size_bytes

    def key(self, relative: str) -> str:
        return self.prefix + relative

    # ---------------------------------------------------------------- small object helpers

    def get_bytes(self, full_key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=full_key)["Body"].read()
        except ClientError as exc:
            if _missing(exc):
                raise ArchiveNotFound(f"no archive object {full_key!r}") from exc
            raise

    def get_json(self, full_key: str) -> Any:
        try:
            return json.loads(self.get_bytes(full_key))
        except ArchiveNotFound:
            return None

    def put_bytes(self, full_key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=full_key, Body=data)

    def delete_keys(self, full_keys: list[str]) -> None:
        for start in range(0, len(full_keys), 1000):
            batch: list[ObjectIdentifierTypeDef] = [{"Key": key} for key in full_keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def iter_object(self, full_key: str, chunk_bytes: int = 1 << 20) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=full_key)["Body"]
        try:
            yield from body.iter_chunks(chunk_bytes)
        finally:
            body.close()

    # ---------------------------------------------------------------- Archive

    def writer(self, session_id: str) -> S3ArchiveWriter:
        return S3ArchiveWriter(self, session_id)

    def info(self, session_id: str) -> ArchivedAudio | None:
        data = self.get_json(self.key(f"{check_session_id(session_id)}/audio.json"))
        return ArchivedAudio(**data) if data is not None else None

    def _finished(self, session_id: str) -> ArchivedAudio:
        audio = self.info(session_id)
        if audio is None:
            raise ArchiveNotFound(f"no archived audio for session {session_id}")
        return audio

    def read(self, session_id: str) -> bytes:
        return self.get_bytes(self.key(self._finished(session_id).key))

    def url(self, session_id: str, ttl_s: int = 300) -> str:
        key = self.key(self._finished(session_id).key)
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=ttl_s
        )

    def delete(self, session_id: str) -> None:
        prefix = self.key(check_session_id(session_id) + "/")
        uploads = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        for upload in uploads.get("Uploads", []):
            try:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
            except ClientError as exc:
                if not _missing(exc):
                    raise
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            self.delete_keys([item["Key"] for item in page.get("Contents", [])])

    def presign_put(self, key: str, ttl_s: int = 900, content_type: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key(key)}
        if content_type:
            params["ContentType"] = content_type
        return self.client.generate_presigned_url("put_object", Params=params, ExpiresIn=ttl_s)

    def read_key(self, key: str) -> bytes:
        return self.get_bytes(self.key(key))

    def put_file(self, key: str, src: Path) -> None:
        self.client.upload_file(str(src), self.bucket, self.key(key), Config=_TRANSFER)

    def get_file(self, key: str, dest: Path) -> None:
        try:
            self.client.download_file(self.bucket, self.key(key), str(dest), Config=_TRANSFER)
        except ClientError as exc:
            if _missing(exc):
                raise ArchiveNotFound(f"no archive object {key!r}") from exc
            raise

    def check_sync(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise ArchiveUnavailable(f"S3 bucket {self.bucket!r} is not reachable: {exc}") from exc
