"""Audio plumbing: PCM16 bytes to float32 samples, and a growable sample buffer."""

from __future__ import annotations

import numpy as np


def pcm16_to_float(pcm: bytes) -> np.ndarray:
    """16-bit little-endian mono PCM to float32 in [-1, 1). An odd trailing byte is an error."""
    if len(pcm) % 2:
        raise ValueError("PCM16 audio must have an even number of bytes")
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: np.ndarray) -> bytes:
    pcm: bytes = (np.clip(samples, -1.0, 32767 / 32768) * 32768.0).astype("<i2").tobytes()
    return pcm


class SampleBuffer:
    """Samples from an absolute position ``start`` on; appends are amortised O(1), cuts drop the head."""

    def __init__(self, start: int = 0) -> None:
        self.start = start
        self._data = np.zeros(16000 * 4, dtype=np.float32)
        self._len = 0

    @property
    def end(self) -> int:
        return self.start + self._len

    def append(self, samples: np.ndarray) -> None:
        need = self._len + len(samples)
        if need > len(self._data):
            grown = np.zeros(max(need, 2 * len(self._data)), dtype=np.float32)
            grown[: self._len] = self._data[: self._len]
            self._data = grown
        self._data[self._len : need] = samples
        self._len = need

    def view(self, begin: int, end: int) -> np.ndarray:
        """Samples [begin, end) in absolute positions (a view: copy it to keep it)."""
        if begin < self.start or end > self.end or begin > end:
            raise IndexError(f"[{begin}, {end}) is outside [{self.start}, {self.end})")
        return self._data[begin - self.start : end - self.start]

    def drop_before(self, position: int) -> None:
        cut = min(max(position - self.start, 0), self._len)
        if cut:
            self._data[: self._len - cut] = self._data[cut : self._len].copy()
            self._len -= cut
            self.start += cut
        if position > self.start:  # nothing buffered yet up to position
            self.start = position
