"""Post-call diarization of one archived session: turns, relabelled segments, speakers, status."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from diarize.types import OfflineDiarizer, Turn
from diarize.words import assign_words
from persistence.archive import Archive
from persistence.db import Db
from persistence.repositories import diarization as turns_repo
from persistence.repositories import segments as segments_repo
from persistence.repositories import sessions as sessions_repo
from persistence.repositories import speakers as speakers_repo
from persistence.repositories.sessions import StepStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``session.diarized`` reports in its ``data``."""

    status: StepStatus
    backend: str
    speakers: int = 0
    turns: int = 0
    error: str | None = None

    def as_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": str(self.status), "backend": self.backend}
        if self.status is StepStatus.DONE:
            data.update(speakers=self.speakers, turns=self.turns)
        if self.error:
            data["error"] = self.error
        return data


@dataclass(frozen=True, slots=True)
class _Span:
    start_s: float
    end_s: float


def speaker_hints(options: dict[str, Any]) -> tuple[int | None, int | None]:
    """``min_speakers`` / ``max_speakers`` from a session's stored options, when sane."""

    def pick(key: str) -> int | None:
        value = options.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 50 else None

    lo, hi = pick("min_speakers"), pick("max_speakers")
    if lo and hi and lo > hi:
        return None, None
    return lo, hi


def relabel_segments(segments: list[segments_repo.Segment], turns: list[Turn]) -> list[segments_repo.Relabel]:
    """Every word takes the speaker of the turns it overlaps most; a segment takes its words' majority
    speaker (weighted by duration), or its own span's when it has no words."""
    changes = []
    for segment in segments:
        words = [dict(w) for w in segment.words]
        spans = [_Span(float(w.get("start_s", 0.0)), float(w.get("end_s", 0.0))) for w in words]
        labels = assign_words(spans, turns)
        weight: dict[int, float] = {}
        for word, span, label in zip(words, spans, labels, strict=True):
            word["speaker"] = label
            if label is not None:
                weight[label] = weight.get(label, 0.0) + max(span.end_s - span.start_s, 1e-3)
        if weight:
            speaker: int | None = max(weight, key=lambda s: weight[s])
        else:
            speaker = assign_words([_Span(segment.start_s, segment.end_s)], turns)[0]
        changes.append(segments_repo.Relabel(idx=segment.idx, speaker=speaker, words=words))
    return changes


async def diarize_session(
    db: Db, archive: Archive, diarizer: OfflineDiarizer | None, session_id: str
) -> Outcome | None:
    """Diarize, relabel and store one session; None when the session no longer exists.

    Failures are stored (status ``failed`` and the error) and reported, not raised: the agents
    pipeline starts on ``session.diarized`` whatever happened here."""
    session = await sessions_repo.get_for_worker(db, session_id)
    if session is None:
        return None
    if diarizer is None or session.diarization_status == StepStatus.OFF:
        await sessions_repo.update_state(db, session_id, diarization_status=StepStatus.OFF)
        return Outcome(StepStatus.OFF, session.diarize_backend or "off")
    await sessions_repo.update_state(
        db, session_id, diarization_status=StepStatus.RUNNING, diarize_backend=diarizer.name
    )
    try:
        pcm = await asyncio.to_thread(archive.read_pcm, session_id)
        waveform = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        lo, hi = speaker_hints(session.options or {})
        turns = await asyncio.to_thread(diarizer.diarize, waveform, lo, hi)
        segments = await segments_repo.list_for_worker(db, session_id)
        changes = relabel_segments(segments, turns)
        await turns_repo.replace_turns(
            db, session_id, [turns_repo.Turn(t.start_s, t.end_s, t.speaker) for t in turns]
        )
        await segments_repo.relabel(db, session_id, changes)
        await speakers_repo.ensure(db, session_id, {t.speaker for t in turns})
    except Exception as exc:
        log.exception("post-call diarization of %s failed", session_id)
        error = f"{type(exc).__name__}: {exc}"
        await sessions_repo.update_state(db, session_id, diarization_status=StepStatus.FAILED)
        return Outcome(StepStatus.FAILED, diarizer.name, error=error)
    await sessions_repo.update_state(db, session_id, diarization_status=StepStatus.DONE)
    return Outcome(StepStatus.DONE, diarizer.name, speakers=len({t.speaker for t in turns}), turns=len(turns))
