from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx
import numpy as np
import pytest

from ayka.settings import Settings
from persistence.archive import (
    Archive,
    ArchiveError,
    ArchiveNotFound,
    ArchiveUnavailable,
    AudioFormat,
    open_archive,
    upload_key,
    verify_signed_url,
)
from persistence.archive.s3 import MIN_PART_BYTES, make_client
from tests.fixtures.s3 import S3Server

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SECRET = "test-signing-secret"
BASE_URL = "http://127.0.0.1:8000"
FRAME_BYTES = 3200  # 100 ms of 16 kHz PCM16


def _pcm(seconds: float, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    wave = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(len(t))
    return bytes((wave * 32767).astype("<i2").tobytes())


def _frames(pcm: bytes) -> Iterator[tuple[int, bytes]]:
    for seq, start in enumerate(range(0, len(pcm), FRAME_BYTES)):
        yield seq, pcm[start : start + FRAME_BYTES]


@pytest.fixture(params=["file", "s3"])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Archive:
    if request.param == "file":
        return open_archive((tmp_path / "archive").as_uri(), signing_secret=SECRET, public_base_url=BASE_URL)
    server: S3Server = request.getfixturevalue("s3")
    return open_archive(
        server.archive_url(f"t-{uuid.uuid4().hex[:8]}"),
        s3_endpoint_url=server.endpoint_url,
        s3_region=server.region,
        s3_access_key_id=server.access_key,
        s3_secret_access_key=server.secret_key,
    )


@pytest.mark.parametrize("fmt", [AudioFormat.FLAC, AudioFormat.WAV])
def test_append_finalize_read_delete(archive: Archive, fmt: AudioFormat) -> None:
    pcm = _pcm(3.0)
    writer = archive.writer("s1")
    for seq, frame in _frames(pcm):
        assert writer.append(seq, frame)
    assert not writer.append(5, b"\x00" * FRAME_BYTES)  # a replayed frame is ignored
    assert writer.pcm_bytes == len(pcm)
    audio = writer.finalize(fmt)
    assert audio.format == fmt.value and audio.key == f"s1/audio.{fmt.value}"
    assert audio.pcm_sha256 == hashlib.sha256(pcm).hexdigest()
    assert audio.duration_s == pytest.approx(3.0)
    assert writer.finalize(fmt) == audio  # idempotent
    assert archive.exists("s1") and archive.info("s1") == audio
    data = archive.read("s1")
    assert len(data) == audio.size_bytes
    assert data[:4] == (b"fLaC" if fmt is AudioFormat.FLAC else b"RIFF")
    assert archive.read_pcm("s1") == pcm
    with pytest.raises(ArchiveError):
        archive.writer("s1").append(10_000, b"\x00\x00")
    archive.delete("s1")
    assert not archive.exists("s1")
    with pytest.raises(ArchiveNotFound):
        archive.read("s1")


def test_writer_resumes_after_restart(archive: Archive) -> None:
    pcm = _pcm(2.0, seed=1)
    frames = list(_frames(pcm))
    first = archive.writer("s2")
    for seq, frame in frames[:10]:
        first.append(seq, frame)
    first.close()  # graceful stop: the process goes away with the writer unfinished
    resumed = archive.writer("s2")
    assert resumed.last_seq == 9 and resumed.durable_seq == 9
    for seq, frame in frames[5:]:  # the new owner replays a little too much
        resumed.append(seq, frame)
    audio = resumed.finalize()
    assert audio.pcm_sha256 == hashlib.sha256(pcm).hexdigest()


def test_a_frame_whose_start_came_first_is_completed_not_doubled(archive: Archive) -> None:
    # A Finalize publishes the start of the frame the gateway holds; the frame comes whole later. The
    # writer took a frame once per seq, so the rest of that frame was never archived.
    pcm = _pcm(2.0, seed=2)
    frames = list(_frames(pcm))
    writer = archive.writer("s3")
    for seq, frame in frames[:7]:
        writer.append(seq, frame)
    assert writer.append(7, frames[7][1][:1000]) and writer.append(7, frames[7][1][:2200])  # two Finalizes
    writer.checkpoint()
    writer.close()  # a restart with the frame's start durable
    resumed = archive.writer("s3")
    assert resumed.last_seq == 7 and resumed.pcm_bytes == 7 * FRAME_BYTES + 2200
    assert resumed.append(7, frames[7][1])  # the whole frame: only its rest is new
    assert not resumed.append(7, frames[7][1]) and not resumed.append(6, frames[6][1])  # replays
    for seq, frame in frames[8:]:
        resumed.append(seq, frame)
    assert resumed.finalize().pcm_sha256 == hashlib.sha256(pcm).hexdigest()


def test_a_writer_from_before_frames_could_grow_takes_a_redelivered_frame_once(archive: Archive) -> None:
    # State stored before a frame's size was recorded: the last frame's size is unknown, and a frame
    # redelivered after a restart (stored, but not yet acknowledged) must not be taken for its rest.
    from persistence.archive.local import LocalArchive
    from persistence.archive.s3 import S3Archive

    pcm = _pcm(1.0, seed=3)
    frames = list(_frames(pcm))
    writer = archive.writer("s4")
    for seq, frame in frames[:5]:
        writer.append(seq, frame)
    writer.close()
    if isinstance(archive, LocalArchive):
        path = archive.root / "s4" / "audio.state.json"
        state = json.loads(path.read_text())
        del state["last_frame_bytes"]
        path.write_text(json.dumps(state))
    else:
        assert isinstance(archive, S3Archive)
        key = archive.key("s4/audio") + ".state.json"
        state = archive.get_json(key)
        del state["durable_frame_bytes"]
        archive.put_bytes(key, json.dumps(state).encode())
    resumed = archive.writer("s4")
    assert not resumed.append(4, frames[4][1]), "a redelivered frame was appended again"
    for seq, frame in frames[5:]:
        resumed.append(seq, frame)
    assert resumed.finalize().pcm_sha256 == hashlib.sha256(pcm).hexdigest()


def test_empty_session_finalizes(archive: Archive) -> None:
    audio = archive.writer("empty").finalize(AudioFormat.WAV)
    assert audio.duration_s == 0 and archive.read_pcm("empty") == b""


def test_invalid_session_ids_are_refused(archive: Archive) -> None:
    for bad in ("../etc", "a/b", "", ".hidden"):
        with pytest.raises(ArchiveError):
            archive.writer(bad)


def test_missing_session(archive: Archive) -> None:
    assert archive.info("nope") is None and not archive.exists("nope")
    with pytest.raises(ArchiveNotFound):
        archive.url("nope", 60)
    archive.delete("nope")  # nothing to delete is fine


def test_file_signed_url(tmp_path: Path) -> None:
    archive = open_archive((tmp_path / "a").as_uri(), signing_secret=SECRET, public_base_url=BASE_URL)
    writer = archive.writer("sess-1")
    writer.append(0, _pcm(0.5))
    writer.finalize()
    url = archive.url("sess-1", ttl_s=60)
    parts = urlsplit(url)
    assert url.startswith(f"{BASE_URL}/v1/archive/sess-1?")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert verify_signed_url(SECRET, "sess-1", query["expires"], query["sig"])
    assert not verify_signed_url(SECRET, "sess-2", query["expires"], query["sig"])  # other session
    assert not verify_signed_url(SECRET, "sess-1", str(int(query["expires"]) + 1), query["sig"])
    assert not verify_signed_url("other-secret", "sess-1", query["expires"], query["sig"])
    assert not verify_signed_url(SECRET, "sess-1", "soon", query["sig"])
    later = time.time() + 61
    assert not verify_signed_url(SECRET, "sess-1", query["expires"], query["sig"], now=later)  # expired
    with pytest.raises(ArchiveError):
        archive.presign_put("sess-1/upload/x.wav")


def test_s3_multipart_checkpoints_and_crashes(s3: S3Server) -> None:
    prefix = f"mp-{uuid.uuid4().hex[:8]}"
    archive = open_archive(
        s3.archive_url(prefix),
        s3_endpoint_url=s3.endpoint_url,
        s3_access_key_id=s3.access_key,
        s3_secret_access_key=s3.secret_key,
        s3_region=s3.region,
    )
    pcm = _pcm(MIN_PART_BYTES * 2.5 / 32000, seed=2)  # 2.5 parts
    frames = list(_frames(pcm))
    per_part = MIN_PART_BYTES // FRAME_BYTES + 1  # frames that fill one part

    writer = archive.writer("long")
    for seq, frame in frames[: per_part + 100]:
        writer.append(seq, frame)
    assert writer.durable_seq == per_part - 1  # one part uploaded, 100 frames buffered
    writer.checkpoint()
    for seq, frame in frames[per_part + 100 : per_part + 300]:
        writer.append(seq, frame)
    writer.checkpoint()
    assert writer.durable_seq == writer.last_seq == per_part + 299

    # Crash (no close): a new process resumes exactly at the last checkpoint.
    resumed = archive.writer("long")
    assert resumed.durable_seq == resumed.last_seq == per_part + 299
    assert resumed.pcm_bytes == (per_part + 300) * FRAME_BYTES
    for seq, frame in frames[per_part + 300 : 2 * per_part + 50]:  # crosses the second part, no checkpoint
        resumed.append(seq, frame)
    assert resumed.durable_seq == 2 * per_part - 1

    # Crash again: the 50 frames after the part are gone from the writer; replay them from durable_seq.
    again = archive.writer("long")
    assert again.last_seq == 2 * per_part - 1
    for seq, frame in frames[again.durable_seq + 1 :]:
        again.append(seq, frame)
    audio = again.finalize(AudioFormat.FLAC)
    assert audio.pcm_sha256 == hashlib.sha256(pcm).hexdigest()
    assert archive.read_pcm("long") == pcm
    client = boto3_client(s3)
    left = [o["Key"] for o in client.list_objects_v2(Bucket=s3.bucket, Prefix=prefix).get("Contents", [])]
    assert sorted(left) == [
        f"{prefix}/long/audio.flac",
        f"{prefix}/long/audio.json",
    ]  # no parts, tails, state
    archive.delete("long")
    assert not archive.exists("long")
    assert client.list_objects_v2(Bucket=s3.bucket, Prefix=prefix).get("KeyCount", 0) == 0


def boto3_client(s3: S3Server) -> S3Client:
    return make_client(s3.endpoint_url, s3.region, s3.access_key, s3.secret_key)


def test_s3_presigned_urls(s3: S3Server) -> None:
    archive = open_archive(
        s3.archive_url("presign"),
        s3_endpoint_url=s3.endpoint_url,
        s3_access_key_id=s3.access_key,
        s3_secret_access_key=s3.secret_key,
        s3_region=s3.region,
    )
    writer = archive.writer("p1")
    writer.append(0, _pcm(0.5))
    audio = writer.finalize()
    url = archive.url("p1", ttl_s=60)
    got = httpx.get(url)
    assert got.status_code == 200 and got.content == archive.read("p1")
    assert len(got.content) == audio.size_bytes
    forged = url.replace("Signature=", "Signature=0")
    assert httpx.get(forged).status_code == 403
    short = archive.url("p1", ttl_s=1)
    time.sleep(2.1)
    expired = httpx.get(short)
    assert expired.status_code == 403 and b"expired" in expired.content.lower()
    put_url = archive.presign_put(upload_key("p1", "call.wav"), ttl_s=60)
    assert httpx.put(put_url, content=b"RIFF-upload").status_code == 200
    assert archive.read_key(upload_key("p1", "call.wav")) == b"RIFF-upload"
    archive.delete("p1")
    with pytest.raises(ArchiveNotFound):
        archive.read_key(upload_key("p1", "call.wav"))


def test_put_and_get_file(archive: Archive, tmp_path: Path) -> None:
    src = tmp_path / "in.bin"
    src.write_bytes(b"recording" * 1000)
    archive.put_file(upload_key("u1", "rec.mp3"), src)
    dest = tmp_path / "out.bin"
    archive.get_file(upload_key("u1", "rec.mp3"), dest)
    assert dest.read_bytes() == src.read_bytes()
    archive.delete("u1")
    with pytest.raises(ArchiveNotFound):
        archive.get_file(upload_key("u1", "rec.mp3"), dest)


def test_open_archive_from_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, url_signing_secret=SECRET, public_url="https://ayka.test")
    archive = open_archive(settings)
    writer = archive.writer("from-settings")
    writer.append(0, _pcm(0.2))
    writer.finalize(settings.archive_format)
    assert (tmp_path / "archive" / "from-settings" / "audio.flac").exists()
    assert archive.url("from-settings").startswith("https://ayka.test/v1/archive/from-settings?")


def test_open_archive_rejects_bad_urls() -> None:
    for bad in ("http://x/y", "s3://", "file://host/path"):
        with pytest.raises(ArchiveError):
            open_archive(bad)


async def test_check_reports_unusable_storage(tmp_path: Path, s3: S3Server) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ArchiveUnavailable):
        await open_archive((tmp_path / "a-file" / "archive").as_uri()).check()
    await open_archive((tmp_path / "ok").as_uri()).check()
    wrong_key = open_archive(
        s3.archive_url(), s3_endpoint_url=s3.endpoint_url, s3_access_key_id=s3.access_key,
        s3_secret_access_key="wrong", s3_region=s3.region,
    )  # fmt: skip
    with pytest.raises(ArchiveUnavailable):
        await wrong_key.check()
