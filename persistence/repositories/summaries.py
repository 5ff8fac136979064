"""One summary per session (abstract, bullets, action items), replaced when the agents run again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from persistence.db import Db
from persistence.repositories._common import columns, to_row


@dataclass(frozen=True, slots=True)
class Summary:
    session_id: str
    owner_id: str
    abstract: str
    bullets: list[str]
    action_items: list[dict[str, Any]]  # [{text, owner}]
    engine: str
    created_at: datetime


_COLS = columns(Summary)


async def upsert(
    db: Db,
    owner_id: str,
    session_id: str,
    abstract: str,
    bullets: list[str],
    action_items: list[dict[str, Any]],
    engine: str,
) -> Summary:
    """Internal (agents)."""
    row = await db.fetchrow(
        f"""INSERT INTO summaries (session_id, owner_id, abstract, bullets, action_items, engine)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (session_id) DO UPDATE SET abstract = EXCLUDED.abstract, bullets = EXCLUDED.bullets,
                action_items = EXCLUDED.action_items, engine = EXCLUDED.engine, created_at = now()
            RETURNING {_COLS}""",
        session_id,
        owner_id,
        abstract,
        bullets,
        action_items,
        engine,
    )
    summary = to_row(Summary, row)
    assert summary is not None
    return summary


async def get(db: Db, owner_id: str, session_id: str) -> Summary | None:
    row = await db.fetchrow(
        f"SELECT {_COLS} FROM summaries WHERE session_id = $1 AND owner_id = $2", session_id, owner_id
    )
    return to_row(Summary, row)
