"""API keys for scripts. Only a hash of the key is stored; the key itself is shown once, by the gateway."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from persistence.db import Db
from persistence.repositories._common import columns, new_id, to_row, to_rows


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    owner_id: str
    name: str
    prefix: str
    key_hash: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


_COLS = columns(ApiKey)


async def create(
    db: Db, owner_id: str, name: str, prefix: str, key_hash: str, scopes: Sequence[str], key_id: str = ""
) -> ApiKey:
    row = await db.fetchrow(
        f"""INSERT INTO api_keys (id, owner_id, name, prefix, key_hash, scopes)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLS}""",
        key_id or new_id("key"),
        owner_id,
        name,
        prefix,
        key_hash,
        list(scopes),
    )
    key = to_row(ApiKey, row)
    assert key is not None
    return key


async def get(db: Db, owner_id: str, key_id: str) -> ApiKey | None:
    row = await db.fetchrow(f"SELECT {_COLS} FROM api_keys WHERE id = $1 AND owner_id = $2", key_id, owner_id)
    return to_row(ApiKey, row)


async def list_for_owner(db: Db, owner_id: str, include_revoked: bool = False) -> list[ApiKey]:
    rows = await db.fetch(
        f"""SELECT {_COLS} FROM api_keys WHERE owner_id = $1 AND ($2 OR revoked_at IS NULL)
            ORDER BY created_at, id""",
        owner_id,
        include_revoked,
    )
    return to_rows(ApiKey, rows)


async def find_active_by_hash(db: Db, key_hash: str) -> ApiKey | None:
    """Authentication: the key presented is how the owner is found, so no owner filter here."""
    row = await db.fetchrow(
        f"SELECT {_COLS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL", key_hash
    )
    return to_row(ApiKey, row)


async def touch(db: Db, key_id: str) -> None:
    await db.execute("UPDATE api_keys SET last_used_at = now() WHERE id = $1", key_id)


async def revoke(db: Db, owner_id: str, key_id: str) -> bool:
    done = await db.fetchval(
        """UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
           WHERE id = $1 AND owner_id = $2 RETURNING true""",
        key_id,
        owner_id,
    )
    return bool(done)
