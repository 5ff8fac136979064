"""The audit log: who did what to which object (erasures, sign-ups, key changes)."""

from __future__ import annotations

from typing import Any

from persistence.db import Db
from persistence.repositories import audit


async def write_audit(
    db: Db,
    owner_id: str | None,
    *,
    actor: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """One row; it outlives the account (``owner_id`` turns NULL on erasure; ``target`` keeps the id)."""
    await audit.record(db, owner_id, actor, action, target, detail)
