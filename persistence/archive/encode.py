"""Stream PCM16 chunks into one FLAC or WAV file without holding the whole recording in memory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from persistence.archive.base import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, AudioFormat


@dataclass(frozen=True, slots=True)
class Encoded:
    pcm_sha256: str
    samples: int

    @property
    def duration_s(self) -> float:
        return self.samples / SAMPLE_RATE_HZ


def encode_pcm(chunks: Iterable[bytes], dest: Path, fmt: AudioFormat) -> Encoded:
    digest = hashlib.sha256()
    samples = 0
    carry = b""  # a chunk may end in the middle of a sample
    with soundfile.SoundFile(
        dest, "w", samplerate=SAMPLE_RATE_HZ, channels=1, subtype="PCM_16", format=fmt.value.upper()
    ) as out:
        for chunk in chunks:
            data = carry + chunk
            usable = len(data) - len(data) % SAMPLE_WIDTH_BYTES
            carry = data[usable:]
            if not usable:
                continue
            digest.update(data[:usable])
            frame = np.frombuffer(data[:usable], dtype="<i2")
            out.write(frame)
            samples += len(frame)
    return Encoded(digest.hexdigest(), samples)


def iter_file(path: Path, chunk_bytes: int = 1 << 20, limit: int | None = None) -> Iterable[bytes]:
    """The first ``limit`` bytes of ``path`` (all when None), in chunks."""
    remaining = path.stat().st_size if limit is None else limit
    with path.open("rb") as fh:
        while remaining > 0:
            chunk = fh.read(min(chunk_bytes, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
