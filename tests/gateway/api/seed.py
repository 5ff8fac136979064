"""Rows the services write (sessions, segments, leads, events, …), put in place for API tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from persistence.db import Pool
from persistence.repositories import sessions

WORDS = [
    ("hello", "Hello", 0.0, 0.4, 0),
    ("there", "there.", 0.5, 0.9, 0),
    ("hi", "Hi,", 1.2, 1.4, 1),
    ("bob", "Bob!", 1.5, 1.9, 1),
]


@dataclass
class Seeded:
    session_id: str
    lead_id: str
    event_id: str
    notification_id: str
    webhook_id: str
    delivery_id: str


async def seed_session(pool: Pool, owner_id: str, title: str = "Weekly sync") -> str:
    session_id = uuid.uuid4().hex
    await sessions.create(pool, session_id, owner_id, title=title, language="en", model="tiny.en")
    segments = [(0, 0.0, 0.9, "Hello there.", 0, WORDS[:2]), (1, 1.2, 1.9, "Hi, Bob!", 1, WORDS[2:])]
    for idx, start, end, text, speaker, words in segments:
        await pool.execute(
            """INSERT INTO segments (session_id, idx, start_s, end_s, text, words, speaker)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            session_id,
            idx,
            start,
            end,
            text,
            [
                {"word": w, "punctuated_word": p, "start_s": s, "end_s": e, "confidence": 0.9, "speaker": k}
                for w, p, s, e, k in words
            ],
            speaker,
        )
    await pool.execute(
        """INSERT INTO diarization_turns (session_id, start_s, end_s, speaker)
           VALUES ($1, 0.0, 0.9, 0), ($1, 1.2, 1.9, 1)""",
        session_id,
    )
    await pool.execute(
        """INSERT INTO summaries (session_id, owner_id, abstract, bullets, action_items, engine)
           VALUES ($1, $2, 'A greeting.', '["hello"]', '[{"text": "reply", "owner": "Bob"}]', 'offline')""",
        session_id,
        owner_id,
    )
    return session_id


async def seed_lead(pool: Pool, owner_id: str, session_id: str, person: str = "Ada Lovelace") -> str:
    lead_id = "lead_" + uuid.uuid4().hex[:16]
    await pool.execute(
        """INSERT INTO leads (id, owner_id, session_id, person, company, email, score, score_reasons,
                              evidence, email_draft, engine)
           VALUES ($1, $2, $3, $4, 'Analytical Engines', 'ada@example.com', 80, '["budget"]',
                   '[{"quote": "we have budget", "speaker": 1, "start_s": 1.2, "end_s": 1.9}]',
                   '{"subject": "Hi", "body": "Hello"}', 'offline')""",
        lead_id,
        owner_id,
        session_id,
        person,
    )
    return lead_id


async def seed_all(pool: Pool, owner_id: str, webhook_id: str) -> Seeded:
    session_id = await seed_session(pool, owner_id)
    lead_id = await seed_lead(pool, owner_id, session_id)
    event_id = "evt_" + uuid.uuid4().hex[:16]
    await pool.execute(
        """INSERT INTO events (id, owner_id, session_id, name, starts_at, timezone, engine)
           VALUES ($1, $2, $3, 'Demo', $4, 'UTC', 'offline')""",
        event_id,
        owner_id,
        session_id,
        datetime(2030, 1, 2, 15, 0, tzinfo=UTC),
    )
    notification_id = "ntf_" + uuid.uuid4().hex[:16]
    await pool.execute(
        "INSERT INTO notifications (id, owner_id, kind, title) VALUES ($1, $2, 'lead', 'New lead')",
        notification_id,
        owner_id,
    )
    delivery_id = "dlv_" + uuid.uuid4().hex[:16]
    await pool.execute(
        """INSERT INTO webhook_deliveries (id, endpoint_id, owner_id, webhook_id, event_type, payload, status)
           VALUES ($1, $2, $3, 'msg_1', 'lead.finalized', '{}', 'failed')""",
        delivery_id,
        webhook_id,
        owner_id,
    )
    return Seeded(session_id, lead_id, event_id, notification_id, webhook_id, delivery_id)
