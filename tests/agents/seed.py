"""Put a fixture transcript into PostgreSQL as a finished, diarized session."""

from __future__ import annotations

import uuid
from pathlib import Path

from agents.evaluation import load_fixture
from persistence.db import Pool
from persistence.repositories import segments, sessions, speakers
from persistence.repositories.sessions import Session, SessionStatus, StepStatus

FIXTURES = Path(__file__).parent / "fixtures"


async def seed_session(pool: Pool, owner_id: str, fixture: str, *, live_leads: bool = False) -> Session:
    transcript = load_fixture(FIXTURES / f"{fixture}.json").transcript
    session_id = f"s{uuid.uuid4().hex[:12]}"
    created = await sessions.create(
        pool,
        session_id,
        owner_id,
        title=fixture,
        status=SessionStatus.PROCESSING,
        options={"live_leads": live_leads},
        diarization_status=StepStatus.DONE,
    )
    assert created is not None
    labels: dict[str, int] = {}
    for segment in transcript.segments:
        label = labels.setdefault(segment.speaker, len(labels))
        words = [
            {"word": w.word, "punctuated_word": w.word, "start_s": w.start_s, "end_s": w.end_s}
            | {"confidence": 0.9, "speaker": label}
            for w in segment.words
        ]
        await segments.apply_final(
            pool, session_id, segment.index, segment.start_s, segment.end_s, segment.text, words, label
        )
    for name, label in labels.items():
        await speakers.rename(pool, owner_id, session_id, label, name)
    return created
