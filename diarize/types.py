"""The shapes diarization works with: turns, word spans, and the three model interfaces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16000

Waveform = npt.NDArray[np.float32]  # mono, 16 kHz, float32 in [-1, 1]
Embedding = npt.NDArray[np.float32]


class DiarizationError(RuntimeError):
    """A backend cannot run: missing weights, a bad pipeline folder, unreadable audio."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One stretch of speech by one speaker (0-based label, stable within one diarization)."""

    start_s: float
    end_s: float
    speaker: int

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True, slots=True)
class SpeechRegion:
    start_s: float
    end_s: float


class TimedWord(Protocol):
    """Anything with a start and an end on the session clock (``bus.Word`` fits)."""

    @property
    def start_s(self) -> float: ...

    @property
    def end_s(self) -> float: ...


class SpeakerEmbedder(Protocol):
    """Maps speech to a unit-norm voice vector; similar voices have a high dot product."""

    @property
    def dim(self) -> int: ...

    def embed(self, waveform: Waveform) -> Embedding:
        """One embedding for the whole waveform."""
        ...

    def embed_batch(self, windows: Sequence[Waveform]) -> npt.NDArray[np.float32]:
        """One embedding per window, shape (len(windows), dim); windows may differ in length."""
        ...


class OfflineDiarizer(Protocol):
    """Diarizes a whole recording at once."""

    name: str

    def diarize(
        self, waveform: Waveform, min_speakers: int | None = None, max_speakers: int | None = None
    ) -> list[Turn]: ...


class OnlineSpeakerTracker(Protocol):
    """Labels segments as they arrive; may relabel recent segments when it learns more."""

    def assign(self, segment_audio: Waveform, start_s: float, end_s: float, key: int | None = None) -> int:
        """The speaker of this segment now. ``key`` names the segment in later relabels."""
        ...

    def pop_relabels(self) -> dict[int, int]:
        """Segments (by key) whose speaker changed since the last call, with their new speaker."""
        ...

    @property
    def speaker_count(self) -> int: ...
