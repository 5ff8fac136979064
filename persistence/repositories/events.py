"""Events (meetings, deadlines, conferences) mentioned in a session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from persistence.db import Db
from persistence.repositories._common import columns, new_id, to_row, to_rows


@dataclass(frozen=True, slots=True)
class EventFields:
    name: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timezone: str | None = None
    location: str | None = None
    url: str | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    owner_id: str
    session_id: str
    name: str
    starts_at: datetime | None
    ends_at: datetime | None
    timezone: str | None
    location: str | None
    url: str | None
    evidence: list[dict[str, Any]]
    engine: str
    created_at: datetime


_COLS = columns(Event)


async def create(db: Db, owner_id: str, session_id: str, fields: EventFields, engine: str) -> Event:
    """Internal (agents)."""
    row = await db.fetchrow(
        f"""INSERT INTO events (id, owner_id, session_id, name, starts_at, ends_at, timezone, location,
                                url, evidence, engine)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {_COLS}""",
        new_id("evt"),
        owner_id,
        session_id,
        fields.name,
        fields.starts_at,
        fields.ends_at,
        fields.timezone,
        fields.location,
        fields.url,
        fields.evidence,
        engine,
    )
    event = to_row(Event, row)
    assert event is not None
    return event


async def get(db: Db, owner_id: str, event_id: str) -> Event | None:
    row = await db.fetchrow(f"SELECT {_COLS} FROM events WHERE id = $1 AND owner_id = $2", event_id, owner_id)
    return to_row(Event, row)


async def list_for_owner(
    db: Db, owner_id: str, *, session_id: str | None = None, since: datetime | None = None, limit: int = 500
) -> list[Event]:
    """By start time (undated last); ``since`` keeps events starting at or after it."""
    rows = await db.fetch(
        f"""SELECT {_COLS} FROM events
            WHERE owner_id = $1 AND ($2::text IS NULL OR session_id = $2)
              AND ($3::timestamptz IS NULL OR starts_at >= $3)
            ORDER BY starts_at NULLS LAST, created_at, id LIMIT $4""",
        owner_id,
        session_id,
        since,
        limit,
    )
    return to_rows(Event, rows)


async def delete(db: Db, owner_id: str, event_id: str) -> bool:
    done = await db.fetchval(
        "DELETE FROM events WHERE id = $1 AND owner_id = $2 RETURNING true", event_id, owner_id
    )
    return bool(done)


async def replace_for_session(db: Db, session_id: str) -> int:
    """Internal (agents, before a re-run): drop the session's events."""
    rows = await db.fetch("DELETE FROM events WHERE session_id = $1 RETURNING id", session_id)
    return len(rows)
