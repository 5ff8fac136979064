"""The audit log: who did what to which object. Rows outlive their user (owner_id becomes NULL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from persistence.db import Db
from persistence.repositories._common import columns, to_rows


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    owner_id: str | None
    actor: str  # "user:<id>", "key:<id>", "system:retention", ...
    action: str  # "session.delete", "user.erase", "api_key.revoke", ...
    target: str
    detail: dict[str, Any]
    created_at: datetime


_COLS = columns(AuditEntry)


async def record(
    db: Db,
    owner_id: str | None,
    actor: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> int:
    entry_id: int = await db.fetchval(
        """INSERT INTO audit_log (owner_id, actor, action, target, detail)
           VALUES ($1, $2, $3, $4, $5) RETURNING id""",
        owner_id,
        actor,
        action,
        target,
        detail or {},
    )
    return entry_id


async def list_for_owner(db: Db, owner_id: str, limit: int = 100) -> list[AuditEntry]:
    rows = await db.fetch(
        f"SELECT {_COLS} FROM audit_log WHERE owner_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        owner_id,
        limit,
    )
    return to_rows(AuditEntry, rows)


async def list_for_target(db: Db, target: str, limit: int = 100) -> list[AuditEntry]:
    """Internal (operators): entries about one object, also after its owner was erased."""
    rows = await db.fetch(
        f"SELECT {_COLS} FROM audit_log WHERE target = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        target,
        limit,
    )
    return to_rows(AuditEntry, rows)
