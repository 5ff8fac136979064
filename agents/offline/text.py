"""Sentences with their speaker and times: the unit every offline extractor works on."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.schema import Evidence, Transcript, TranscriptWord

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'£$€+(])")
_GENERIC_SPEAKER = re.compile(r"^(?:speaker|spk|unknown)[\s_-]*\d*$", re.IGNORECASE)


@dataclass(frozen=True)
class Sentence:
    text: str
    speaker: str
    start_s: float
    end_s: float
    segment_index: int
    position: int  # 0, 1, 2, ... over the whole transcript

    def evidence(self) -> Evidence:
        return Evidence(quote=self.text, speaker=self.speaker, start_s=self.start_s, end_s=self.end_s)


def is_generic_speaker(name: str) -> bool:
    """``Speaker 2`` is a label, not a person's name."""
    return bool(_GENERIC_SPEAKER.match(name.strip()))


def sentences_of(transcript: Transcript) -> list[Sentence]:
    """Split every segment into sentences; times come from the words when the segment has them."""
    out: list[Sentence] = []
    for segment in transcript.segments:
        parts = [p.strip() for p in _SENTENCE_END.split(segment.text.strip()) if p.strip()]
        total_words = sum(len(p.split()) for p in parts) or 1
        seen_words = 0
        for part in parts:
            n_words = len(part.split())
            start_s, end_s = _span(
                segment.start_s, segment.end_s, segment.words, seen_words, n_words, total_words
            )
            out.append(
                Sentence(
                    text=part,
                    speaker=segment.speaker,
                    start_s=round(start_s, 2),
                    end_s=round(end_s, 2),
                    segment_index=segment.index,
                    position=len(out),
                )
            )
            seen_words += n_words
    return out


def _span(
    seg_start_s: float,
    seg_end_s: float,
    words: list[TranscriptWord],
    first: int,
    count: int,
    total: int,
) -> tuple[float, float]:
    if len(words) == total and count > 0:
        return words[first].start_s, words[first + count - 1].end_s
    # No word times (or they do not line up with the text): share the segment evenly.
    duration_s = max(seg_end_s - seg_start_s, 0.0)
    return (
        seg_start_s + duration_s * first / total,
        seg_start_s + duration_s * (first + count) / total,
    )
