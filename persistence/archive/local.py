"""The ``file://`` archive: a directory per session.

Layout under the root::

    <session>/audio.pcm          raw PCM16 appended frame by frame (while streaming)
    <session>/audio.state.json   {"last_seq", "pcm_bytes"}: written after each append (atomic rename);
                                 on resume the PCM file is cut back to ``pcm_bytes``
    <session>/audio.flac|wav     the finished file
    <session>/audio.json         its ArchivedAudio description (written last: its presence = finished)
    <session>/upload/<name>      uploaded recordings
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

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
from persistence.archive.encode import encode_pcm, iter_file
from persistence.archive.signing import sign_url


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


class LocalArchiveWriter(ArchiveWriter):
    def __init__(self, root: Path, session_id: str) -> None:
        self.session_id = check_session_id(session_id)
        self._dir = root / session_id
        self._pcm = self._dir / "audio.pcm"
        self._state = self._dir / "audio.state.json"
        self._meta = self._dir / "audio.json"
        self._last_seq = -1
        self._last_frame_bytes = 0
        self._pcm_bytes = 0
        self._dir.mkdir(parents=True, exist_ok=True)
        if self._state.exists():
            state = json.loads(self._state.read_text())
            self._last_seq, self._pcm_bytes = int(state["last_seq"]), int(state["pcm_bytes"])
            self._last_frame_bytes = int(state.get("last_frame_bytes", NO_GROWTH))
        if self._pcm.exists() and self._pcm.stat().st_size != self._pcm_bytes:
            # A crash between appending and recording the append: drop the unrecorded tail.
            with self._pcm.open("r+b") as fh:
                fh.truncate(self._pcm_bytes)

    @property
    def last_seq(self) -> int:
        return self._last_seq

    @property
    def durable_seq(self) -> int:
        return self._last_seq

    @property
    def pcm_bytes(self) -> int:
        return self._pcm_bytes

    def append(self, seq: int, pcm: bytes) -> bool:
        if self._meta.exists():
            raise ArchiveError(f"session {self.session_id} is already finalized")
        part = new_part(seq, pcm, self._last_seq, self._last_frame_bytes)
        if not part:
            return False
        with self._pcm.open("ab") as fh:
            fh.write(part)
        self._last_frame_bytes = len(part) if seq > self._last_seq else self._last_frame_bytes + len(part)
        self._last_seq, self._pcm_bytes = seq, self._pcm_bytes + len(part)
        state = {"last_seq": seq, "pcm_bytes": self._pcm_bytes, "last_frame_bytes": self._last_frame_bytes}
        _write_json(self._state, state)
        return True

    def checkpoint(self) -> None:
        """Nothing is buffered: every append is already on disk."""

    def finalize(self, fmt: AudioFormat | str = AudioFormat.FLAC) -> ArchivedAudio:
        if self._meta.exists():
            return ArchivedAudio(**json.loads(self._meta.read_text()))
        fmt = AudioFormat(fmt)
        key = audio_key(self.session_id, fmt)
        dest = self._dir / f"audio.{fmt.value}"
        tmp = dest.with_suffix(dest.suffix + ".tmp")
        chunks = iter_file(self._pcm, limit=self._pcm_bytes) if self._pcm.exists() else iter(())
        encoded = encode_pcm(chunks, tmp, fmt)
        os.replace(tmp, dest)
        audio = ArchivedAudio(key, fmt.value, dest.stat().st_size, encoded.pcm_sha256, encoded.duration_s)
        _write_json(self._meta, asdict(audio))
        self._pcm.unlink(missing_ok=True)
        self._state.unlink(missing_ok=True)
        return audio


class LocalArchive(Archive):
    def __init__(self, root: Path, signing_secret: str = "", public_base_url: str = "") -> None:
        self.root = root
        self._secret = signing_secret
        self._base_url = public_base_url

    def writer(self, session_id: str) -> LocalArchiveWriter:
        return LocalArchiveWriter(self.root, session_id)

    def info(self, session_id: str) -> ArchivedAudio | None:
        meta = self.root / check_session_id(session_id) / "audio.json"
        try:
            return ArchivedAudio(**json.loads(meta.read_text()))
        except FileNotFoundError:
            return None

    def path(self, session_id: str) -> Path:
        """The finished file on disk (the gateway streams it for a signed URL)."""
        audio = self.info(session_id)
        if audio is None:
            raise ArchiveNotFound(f"no archived audio for session {session_id}")
        return self.root / audio.key

    def read(self, session_id: str) -> bytes:
        return self.path(session_id).read_bytes()

    def url(self, session_id: str, ttl_s: int = 300) -> str:
        self.path(session_id)  # raises ArchiveNotFound
        if not self._base_url:
            raise ArchiveError("a public base URL is needed for file:// archive download links")
        return sign_url(self._base_url, self._secret, session_id, ttl_s)

    def delete(self, session_id: str) -> None:
        shutil.rmtree(self.root / check_session_id(session_id), ignore_errors=True)

    def presign_put(self, key: str, ttl_s: int = 900, content_type: str | None = None) -> str:
        raise ArchiveError("presigned uploads need an s3:// archive; upload through POST /v1/recordings")

    def _key_path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()) or path == self.root.resolve():
            raise ArchiveError(f"invalid archive key: {key!r}")
        return path

    def read_key(self, key: str) -> bytes:
        try:
            return self._key_path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ArchiveNotFound(f"no archive object {key!r}") from exc

    def put_file(self, key: str, src: Path) -> None:
        path = self._key_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, path)

    def get_file(self, key: str, dest: Path) -> None:
        try:
            shutil.copyfile(self._key_path(key), dest)
        except FileNotFoundError as exc:
            raise ArchiveNotFound(f"no archive object {key!r}") from exc

    def check_sync(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".ready-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ArchiveUnavailable(
                f"archive directory {self.root} is not writable ({exc.strerror})"
            ) from exc
