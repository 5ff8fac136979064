"""The speaker-labeled transcript of a session, as the agents read it from PostgreSQL."""

from __future__ import annotations

from typing import Any

from agents.schema import Transcript, TranscriptSegment, TranscriptWord
from persistence.db import Db
from persistence.repositories import segments, speakers
from persistence.repositories.sessions import Session

UNLABELED = "Speaker"  # diarization off: one generic label for everyone


def _words(raw: list[dict[str, Any]]) -> list[TranscriptWord]:
    words = []
    for w in raw:
        text = w.get("punctuated_word") or w.get("word") or ""
        if text and "start_s" in w and "end_s" in w:
            words.append(TranscriptWord(word=str(text), start_s=float(w["start_s"]), end_s=float(w["end_s"])))
    return words


async def load_transcript(db: Db, session: Session) -> Transcript:
    names = await speakers.names_for_worker(db, session.id)
    rows = await segments.list_for_worker(db, session.id)
    return Transcript(
        session_id=session.id,
        recorded_at=session.created_at,
        language=session.language or "en",
        segments=[
            TranscriptSegment(
                index=row.idx,
                speaker=UNLABELED
                if row.speaker is None
                else names.get(row.speaker, speakers.default_name(row.speaker)),
                start_s=row.start_s,
                end_s=row.end_s,
                text=row.text,
                words=_words(row.words),
            )
            for row in rows
            if row.text.strip()
        ],
    )
