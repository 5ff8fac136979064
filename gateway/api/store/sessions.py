"""SQL the API needs that the persistence repositories do not offer (yet). Every function that reads a
person's data takes ``owner_id`` and joins on the owning session, so another owner's rows look missing."""

from __future__ import annotations

from typing import Any

from persistence.db import Db


async def session_ids_of_owner(db: Db, owner_id: str) -> list[str]:
    rows = await db.fetch("SELECT id FROM sessions WHERE owner_id = $1", owner_id)
    return [r["id"] for r in rows]


async def merge_options(db: Db, session_id: str, values: dict[str, Any]) -> None:
    await db.execute("UPDATE sessions SET options = options || $2::jsonb WHERE id = $1", session_id, values)


async def claim_option(db: Db, owner_id: str, session_id: str, flag: str) -> bool:
    """Set ``options[flag] = true`` unless it is set already: True for exactly one caller."""
    done = await db.fetchval(
        """UPDATE sessions SET options = options || jsonb_build_object($3::text, true)
           WHERE id = $1 AND owner_id = $2 AND NOT (options ? $3) RETURNING true""",
        session_id,
        owner_id,
        flag,
    )
    return bool(done)
