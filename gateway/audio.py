"""Client audio in any supported encoding → 16 kHz mono PCM16, and the 100 ms framing of the bus.

Raw encodings (``linear16``, ``mulaw``, ``alaw``) are decoded here and resampled with FFmpeg's resampler
(PyAV). Containerized audio (``opus``/``ogg``/``webm``, as browsers' MediaRecorder produce) is demuxed and
decoded by PyAV in a thread that reads from a queue, so a stream can be decoded as it arrives.
"""

from __future__ import annotations

import enum
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Protocol

import av
import numpy as np

TARGET_RATE = 16000
FRAME_SAMPLES = 1600  # 100 ms at 16 kHz
FRAME_BYTES = FRAME_SAMPLES * 2


class Encoding(enum.StrEnum):
    LINEAR16 = "linear16"
    MULAW = "mulaw"
    ALAW = "alaw"
    OPUS = "opus"  # Ogg Opus
    OGG = "ogg"
    WEBM = "webm"
    CONTAINER = "container"  # no `encoding` given: detect the container (Deepgram's behaviour)


RAW_ENCODINGS = {Encoding.LINEAR16, Encoding.MULAW, Encoding.ALAW}
SAMPLE_RATES = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 96000}


class DecodeError(ValueError):
    """Audio that cannot be decoded; the message says what was wrong."""


class AudioDecoder(Protocol):
    def feed(self, data: bytes) -> bytes:
        """Accept client bytes; return the 16 kHz mono PCM16 decoded so far."""
        ...

    def flush(self) -> bytes:
        """End of input: return what remains."""
        ...


def _g711_tables() -> tuple[np.ndarray, np.ndarray]:
    codes = np.arange(256, dtype=np.int32)
    # mu-law (ITU-T G.711)
    u = ~codes & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    mulaw = np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)
    # A-law
    a = codes ^ 0x55
    seg = (a & 0x70) >> 4
    mant = (a & 0x0F) << 4
    mag = np.where(seg == 0, mant + 8, (mant + 0x108) << np.maximum(seg - 1, 0))
    alaw = np.where(a & 0x80, mag, -mag).astype(np.int16)
    return mulaw, alaw


_MULAW, _ALAW = _g711_tables()


class _Resampler:
    """Streaming resample + downmix of int16 interleaved audio to 16 kHz mono PCM16."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self.passthrough = sample_rate == TARGET_RATE and channels == 1
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=TARGET_RATE)
        self._layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")

    def push(self, samples: np.ndarray) -> bytes:
        if self.passthrough or samples.size == 0:
            return samples.astype("<i2", copy=False).tobytes()
        if self.channels > 2:  # FFmpeg has no default layout for every count: mix down here
            samples = samples.reshape(-1, self.channels).mean(axis=1).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        else:
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout=self._layout)
        frame.sample_rate = self.sample_rate
        return b"".join(bytes(out.planes[0])[: out.samples * 2] for out in self._resampler.resample(frame))

    def flush(self) -> bytes:
        """What the resampler holds back; audio may follow (a Finalize flushes mid-stream), so a fresh
        resampler takes over: FFmpeg's is at end of stream after a flush and refuses more."""
        if self.passthrough:
            return b""
        tail = b"".join(bytes(out.planes[0])[: out.samples * 2] for out in self._resampler.resample(None))
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=TARGET_RATE)
        return tail


class RawDecoder:
    """linear16 / mulaw / alaw at any common rate and channel count."""

    def __init__(self, encoding: Encoding, sample_rate: int, channels: int) -> None:
        self.encoding = encoding
        self.width = 2 if encoding is Encoding.LINEAR16 else 1
        self.block = self.width * channels
        self._carry = b""
        self._resampler = _Resampler(sample_rate, channels)

    def feed(self, data: bytes) -> bytes:
        data = self._carry + data
        usable = len(data) - len(data) % self.block
        self._carry = data[usable:]
        chunk = data[:usable]
        if self.encoding is Encoding.LINEAR16:
            samples = np.frombuffer(chunk, dtype="<i2")
        else:
            table = _MULAW if self.encoding is Encoding.MULAW else _ALAW
            samples = table[np.frombuffer(chunk, dtype=np.uint8)]
        return self._resampler.push(samples)

    def flush(self) -> bytes:
        self._carry = b""
        return self._resampler.flush()


class _QueueReader:
    """A blocking file-like object over a queue of byte chunks (None = end of input)."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[bytes | None] = queue.Queue()
        self._buffer = b""
        self._eof = False

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._buffer) < size):
            chunk = self.chunks.get()
            if chunk is None:
                self._eof = True
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


class ContainerDecoder:
    """Ogg/WebM/… decoded by PyAV on a thread as bytes arrive."""

    _FORMATS: ClassVar[dict[Encoding, str | None]] = {
        Encoding.OPUS: "ogg",
        Encoding.OGG: "ogg",
        Encoding.WEBM: "matroska",
        Encoding.CONTAINER: None,
    }

    def __init__(self, encoding: Encoding) -> None:
        self._reader = _QueueReader()
        self._out: queue.Queue[bytes] = queue.Queue()
        self._error: Exception | None = None
        self._format = self._FORMATS[encoding]
        self._thread = threading.Thread(target=self._run, name="audio-decoder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with av.open(self._reader, mode="r", format=self._format) as container:  # type: ignore[call-overload]
                stream = next((s for s in container.streams if s.type == "audio"), None)
                if stream is None:
                    raise DecodeError("the container holds no audio stream")
                resampler = av.AudioResampler(format="s16", layout="mono", rate=TARGET_RATE)
                for frame in container.decode(stream):
                    if not isinstance(frame, av.AudioFrame):
                        raise DecodeError("the audio stream holds no audio frames")
                    for out in resampler.resample(frame):
                        self._out.put(bytes(out.planes[0])[: out.samples * 2])
                for out in resampler.resample(None):
                    self._out.put(bytes(out.planes[0])[: out.samples * 2])
        except DecodeError as exc:
            self._error = exc
        except Exception as exc:  # whatever FFmpeg or PyAV raise on bad input is the client's decode error
            self._error = DecodeError(
                f"audio does not decode as {self._format or 'a known container'}: {exc}"
            )

    def _drain(self) -> bytes:
        parts = []
        while True:
            try:
                parts.append(self._out.get_nowait())
            except queue.Empty:
                break
        if self._error is not None and not parts:
            raise self._error
        return b"".join(parts)

    def feed(self, data: bytes) -> bytes:
        if self._error is not None:
            raise self._error
        self._reader.chunks.put(data)
        return self._drain()

    def flush(self) -> bytes:
        self._reader.chunks.put(None)
        self._thread.join(timeout=10)
        return self._drain()


def make_decoder(encoding: Encoding, sample_rate: int | None, channels: int) -> AudioDecoder:
    if encoding in RAW_ENCODINGS:
        if sample_rate is None:
            raise DecodeError(f"encoding={encoding.value} needs sample_rate")
        return RawDecoder(encoding, sample_rate, channels)
    return ContainerDecoder(encoding)


class Framer:
    """Cuts 16 kHz PCM16 into 100 ms frames (3200 bytes), carrying the remainder."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def push(self, pcm: bytes) -> list[bytes]:
        self._pending += pcm
        count = len(self._pending) // FRAME_BYTES
        frames = [bytes(self._pending[i * FRAME_BYTES : (i + 1) * FRAME_BYTES]) for i in range(count)]
        del self._pending[: count * FRAME_BYTES]
        return frames

    @property
    def held(self) -> bytes:
        """The start of the next frame: what ``push`` received beyond the last whole frame."""
        return bytes(self._pending)

    def flush(self) -> list[bytes]:
        """The last, shorter frame (if any)."""
        rest, self._pending = bytes(self._pending), bytearray()
        return [rest] if rest else []


def decode_file(path: Path | str, chunk_samples: int = TARGET_RATE * 10) -> Iterator[bytes]:
    """A whole audio or video file → 16 kHz mono PCM16 chunks (for uploaded recordings)."""
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise DecodeError(f"not an audio file we can read: {exc}") from exc
    with container:
        stream = next((s for s in container.streams if s.type == "audio"), None)
        if stream is None:
            raise DecodeError("the file holds no audio stream")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=TARGET_RATE)
        pending = bytearray()
        try:
            for frame in container.decode(stream):
                assert isinstance(frame, av.AudioFrame)
                for out in resampler.resample(frame):
                    pending += bytes(out.planes[0])[: out.samples * 2]
                while len(pending) >= chunk_samples * 2:
                    yield bytes(pending[: chunk_samples * 2])
                    del pending[: chunk_samples * 2]
        except av.error.FFmpegError as exc:
            raise DecodeError(f"the audio is damaged: {exc}") from exc
        for out in resampler.resample(None):
            pending += bytes(out.planes[0])[: out.samples * 2]
        if pending:
            yield bytes(pending)
