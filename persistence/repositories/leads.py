"""Sales leads found in a session's transcript, and their pipeline status."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from persistence.db import Db
from persistence.repositories._common import columns, new_id, to_row, to_rows


class LeadStatus(enum.StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class LeadFields:
    """What an extractor produces (and what an owner may edit, with ``status`` and ``notes``)."""

    person: str | None = None
    company: str | None = None
    role: str | None = None
    email: str | None = None
    phone: str | None = None
    intent: str | None = None
    budget: str | None = None
    timeline: str | None = None
    next_step: str | None = None
    score: int = 0
    score_reasons: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)  # [{quote, speaker, start_s, end_s}]
    email_draft: dict[str, str] | None = None  # {subject, body}


@dataclass(frozen=True, slots=True)
class Lead:
    id: str
    owner_id: str
    session_id: str
    person: str | None
    company: str | None
    role: str | None
    email: str | None
    phone: str | None
    intent: str | None
    budget: str | None
    timeline: str | None
    next_step: str | None
    score: int
    score_reasons: list[str]
    status: str
    notes: str
    evidence: list[dict[str, Any]]
    email_draft: dict[str, str] | None
    engine: str
    finalized: bool
    created_at: datetime
    updated_at: datetime


_COLS = columns(Lead)
_FIELD_NAMES = list(LeadFields.__dataclass_fields__)
# What PATCH /v1/leads/{id} may change.
EDITABLE = frozenset({*_FIELD_NAMES, "status", "notes"})


async def create(
    db: Db, owner_id: str, session_id: str, fields: LeadFields, engine: str, finalized: bool = False
) -> Lead:
    """Internal (agents). Pass the caller's connection to write the lead and its outbox row together."""
    values = asdict(fields)
    names = ", ".join(_FIELD_NAMES)
    params = ", ".join(f"${i}" for i in range(6, 6 + len(_FIELD_NAMES)))
    row = await db.fetchrow(
        f"""INSERT INTO leads (id, owner_id, session_id, engine, finalized, {names})
            VALUES ($1, $2, $3, $4, $5, {params}) RETURNING {_COLS}""",
        new_id("lead"),
        owner_id,
        session_id,
        engine,
        finalized,
        *(values[name] for name in _FIELD_NAMES),
    )
    lead = to_row(Lead, row)
    assert lead is not None
    return lead


async def get(db: Db, owner_id: str, lead_id: str) -> Lead | None:
    row = await db.fetchrow(f"SELECT {_COLS} FROM leads WHERE id = $1 AND owner_id = $2", lead_id, owner_id)
    return to_row(Lead, row)


async def list_for_owner(
    db: Db,
    owner_id: str,
    *,
    status: LeadStatus | None = None,
    session_id: str | None = None,
    limit: int = 500,
) -> list[Lead]:
    """Newest first."""
    rows = await db.fetch(
        f"""SELECT {_COLS} FROM leads
            WHERE owner_id = $1 AND ($2::text IS NULL OR status = $2)
              AND ($3::text IS NULL OR session_id = $3)
            ORDER BY created_at DESC, id DESC LIMIT $4""",
        owner_id,
        str(status) if status else None,
        session_id,
        limit,
    )
    return to_rows(Lead, rows)


async def update(db: Db, owner_id: str, lead_id: str, changes: dict[str, Any]) -> Lead | None:
    """Change the given columns (only names in ``EDITABLE``; ``ValueError`` otherwise)."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"lead fields that cannot be changed: {sorted(unknown)}")
    if "status" in changes:
        changes = {**changes, "status": str(LeadStatus(changes["status"]))}
    names = sorted(changes)
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=3))
    row = await db.fetchrow(
        f"""UPDATE leads SET {sets + ", " if sets else ""}updated_at = now()
            WHERE id = $1 AND owner_id = $2 RETURNING {_COLS}""",
        lead_id,
        owner_id,
        *(changes[name] for name in names),
    )
    return to_row(Lead, row)


async def delete(db: Db, owner_id: str, lead_id: str) -> bool:
    done = await db.fetchval(
        "DELETE FROM leads WHERE id = $1 AND owner_id = $2 RETURNING true", lead_id, owner_id
    )
    return bool(done)


async def list_for_worker(db: Db, session_id: str) -> list[Lead]:
    """Internal (agents)."""
    rows = await db.fetch(
        f"SELECT {_COLS} FROM leads WHERE session_id = $1 ORDER BY created_at, id", session_id
    )
    return to_rows(Lead, rows)


async def replace_unfinalized(db: Db, session_id: str) -> int:
    """Internal (agents, before a re-run): drop the session's leads that were not finalized yet."""
    rows = await db.fetch(
        "DELETE FROM leads WHERE session_id = $1 AND NOT finalized RETURNING id", session_id
    )
    return len(rows)


async def finalize(db: Db, lead_id: str) -> Lead | None:
    """Internal (agents): mark final; None when it already was (so it is announced only once)."""
    row = await db.fetchrow(
        f"""UPDATE leads SET finalized = true, updated_at = now()
            WHERE id = $1 AND NOT finalized RETURNING {_COLS}""",
        lead_id,
    )
    return to_row(Lead, row)
