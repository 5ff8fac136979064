"""The archive interface: one audio file per session (16 kHz mono), written frame by frame as it arrives.

Writers are used from one thread at a time; the calls block (file system, boto3), so async code calls
them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import abc
import asyncio
import enum
import re
from dataclasses import dataclass
from pathlib import Path

SAMPLE_RATE_HZ = 16_000
SAMPLE_WIDTH_BYTES = 2  # PCM16 little-endian, mono
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class AudioFormat(enum.StrEnum):
    FLAC = "flac"
    WAV = "wav"


class ArchiveError(RuntimeError):
    """The archive refused an operation (bad id, finalized writer, unsupported on this backend)."""


class ArchiveNotFound(ArchiveError):
    """No finished audio for this session."""


class ArchiveUnavailable(ArchiveError):
    """The storage behind the archive cannot be reached or written (readiness check)."""


@dataclass(frozen=True, slots=True)
class ArchivedAudio:
    """What ``finalize`` produced: stored on the session row."""

    key: str  # where the file lives, relative to the archive root (``<session>/audio.flac``)
    format: str  # ``flac`` | ``wav``
    size_bytes: int  # of the encoded file
    pcm_sha256: str  # of the PCM16 samples, so any encoding can be checked against what was sent
    duration_s: float


def check_session_id(session_id: str) -> str:
    if not _SAFE_ID.match(session_id) or ".." in session_id:
        raise ArchiveError(f"invalid session id for the archive: {session_id!r}")
    return session_id


def audio_key(session_id: str, fmt: AudioFormat | str) -> str:
    return f"{check_session_id(session_id)}/audio.{AudioFormat(fmt).value}"


def upload_key(session_id: str, filename: str = "upload") -> str:
    """Where an uploaded recording for this session goes; ``delete(session_id)`` removes it too."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:100] or "upload"
    return f"{check_session_id(session_id)}/upload/{safe}"


NO_GROWTH = 1 << 30  # the newest frame's size where a writer's stored state predates counting it


def new_part(seq: int, pcm: bytes, last_seq: int, last_frame_bytes: int) -> bytes:
    """What of frame ``seq`` a writer that has frames up to ``last_seq`` (``last_frame_bytes`` of the last
    one) lacks: all of a later frame; of the last one, the bytes past what it has (a Finalize publishes
    the start of a frame that comes whole later; ``bus.FrameKind.FINALIZE``); nothing of an older one."""
    if seq > last_seq:
        return pcm
    if seq == last_seq:
        return pcm[last_frame_bytes:]
    return b""


class ArchiveWriter(abc.ABC):
    """Appends one session's PCM frames; survives a process restart (``Archive.writer`` resumes it)."""

    session_id: str

    @property
    @abc.abstractmethod
    def last_seq(self) -> int:
        """Highest sequence number appended (-1 before the first frame)."""

    @property
    @abc.abstractmethod
    def durable_seq(self) -> int:
        """Highest sequence number that survives a crash; after a restart, replay the audio after it."""

    @property
    @abc.abstractmethod
    def pcm_bytes(self) -> int:
        """PCM bytes appended so far."""

    @abc.abstractmethod
    def append(self, seq: int, pcm: bytes) -> bool:
        """Append one frame, or what is new of the newest one (``new_part``); returns False when nothing
        is new (a replay)."""

    @abc.abstractmethod
    def checkpoint(self) -> None:
        """Make every frame appended so far durable (``durable_seq == last_seq``). Call it before
        acknowledging the frames to the bus (once per batch: on S3 it costs two small PUTs)."""

    def close(self) -> None:
        """Make what is buffered durable without finalizing (graceful stop); the writer may be reopened."""
        self.checkpoint()

    @abc.abstractmethod
    def finalize(self, fmt: AudioFormat | str = AudioFormat.FLAC) -> ArchivedAudio:
        """Encode everything appended into one file. Idempotent: a second call returns the same result."""


class Archive(abc.ABC):
    """One session's audio: a writer while it streams, then one finished file."""

    @abc.abstractmethod
    def writer(self, session_id: str) -> ArchiveWriter:
        """A new writer, or the unfinished one left by an earlier process (resumed)."""

    @abc.abstractmethod
    def info(self, session_id: str) -> ArchivedAudio | None:
        """The finished file's description, or None when there is none."""

    def exists(self, session_id: str) -> bool:
        return self.info(session_id) is not None

    @abc.abstractmethod
    def read(self, session_id: str) -> bytes:
        """The finished file (FLAC or WAV). Raises ``ArchiveNotFound``."""

    def read_pcm(self, session_id: str) -> bytes:
        """The finished file decoded back to PCM16 mono. Raises ``ArchiveNotFound``."""
        import io

        import soundfile

        data, _rate = soundfile.read(io.BytesIO(self.read(session_id)), dtype="int16", always_2d=False)
        return bytes(data.tobytes())

    @abc.abstractmethod
    def url(self, session_id: str, ttl_s: int = 300) -> str:
        """A short-lived download URL for the finished file. Raises ``ArchiveNotFound``."""

    @abc.abstractmethod
    def delete(self, session_id: str) -> None:
        """Remove everything stored for the session (finished file, unfinished parts, uploads)."""

    @abc.abstractmethod
    def presign_put(self, key: str, ttl_s: int = 900, content_type: str | None = None) -> str:
        """A URL a client may PUT a file to (S3 only; ``ArchiveError`` on other backends)."""

    @abc.abstractmethod
    def read_key(self, key: str) -> bytes:
        """Any object under the archive root by key (small ones; ``get_file`` for recordings)."""

    @abc.abstractmethod
    def put_file(self, key: str, src: Path) -> None:
        """Store a local file under ``key`` (an uploaded recording: see ``upload_key``)."""

    @abc.abstractmethod
    def get_file(self, key: str, dest: Path) -> None:
        """Copy the object ``key`` to a local file, streaming. Raises ``ArchiveNotFound``."""

    async def check(self) -> None:
        """Readiness (for /readyz): raise ``ArchiveUnavailable`` when the storage cannot be used."""
        await asyncio.to_thread(self.check_sync)

    @abc.abstractmethod
    def check_sync(self) -> None:
        """``check`` for threads and start-up code."""
