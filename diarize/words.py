"""Words to speakers: each word takes the speaker whose turns overlap it most."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from diarize.types import TimedWord, Turn


def assign_words(words: Sequence[TimedWord], turns: Sequence[Turn]) -> list[int | None]:
    """One speaker per word, in order. A word no turn overlaps takes the nearest turn's speaker
    (VAD trims word edges); ``None`` only when there are no turns at all."""
    if not turns:
        return [None] * len(words)
    ordered = sorted(turns, key=lambda t: t.start_s)
    starts = [t.start_s for t in ordered]
    out: list[int | None] = []
    for word in words:
        overlap: dict[int, float] = {}
        # turns that start before the word ends; scan back while they could still overlap
        hi = bisect.bisect_left(starts, word.end_s)
        for turn in ordered[max(0, hi - 64) : hi]:
            shared = min(word.end_s, turn.end_s) - max(word.start_s, turn.start_s)
            if shared > 0:
                overlap[turn.speaker] = overlap.get(turn.speaker, 0.0) + shared
        if overlap:
            out.append(max(overlap, key=lambda s: overlap[s]))
        else:
            out.append(_nearest(ordered, (word.start_s + word.end_s) / 2))
    return out


def _nearest(turns: Sequence[Turn], at_s: float) -> int:
    def gap(turn: Turn) -> float:
        return max(turn.start_s - at_s, at_s - turn.end_s, 0.0)

    return min(turns, key=gap).speaker


def speaker_name(speaker: int) -> str:
    """The default display name: ``Speaker 1`` for label 0."""
    return f"Speaker {speaker + 1}"
