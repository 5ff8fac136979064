"""A log of agent pipeline steps per session: which engine ran, and why it failed or fell back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from persistence.db import Db
from persistence.repositories._common import columns, to_rows


@dataclass(frozen=True, slots=True)
class AgentRun:
    id: int
    session_id: str
    step: str  # leads | events | summary | email
    engine: str
    status: str  # ok | fallback | failed
    error: str | None
    created_at: datetime


_COLS = columns(AgentRun)


async def record(
    db: Db, session_id: str, step: str, engine: str, status: str, error: str | None = None
) -> int:
    """Internal (agents)."""
    run_id: int = await db.fetchval(
        """INSERT INTO agent_runs (session_id, step, engine, status, error)
           VALUES ($1, $2, $3, $4, $5) RETURNING id""",
        session_id,
        step,
        engine,
        status,
        error,
    )
    return run_id


async def list_for_session(db: Db, owner_id: str, session_id: str) -> list[AgentRun]:
    rows = await db.fetch(
        f"""SELECT {columns(AgentRun, "r")} FROM agent_runs r JOIN sessions s ON s.id = r.session_id
            WHERE r.session_id = $1 AND s.owner_id = $2 ORDER BY r.created_at, r.id""",
        session_id,
        owner_id,
    )
    return to_rows(AgentRun, rows)
