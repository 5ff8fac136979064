"""Expo push tokens of an owner's phones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from persistence.db import Db
from persistence.repositories._common import columns, to_row, to_rows


@dataclass(frozen=True, slots=True)
class PushToken:
    owner_id: str
    token: str
    platform: str
    created_at: datetime


_COLS = columns(PushToken)


async def add(db: Db, owner_id: str, token: str, platform: str) -> PushToken:
    row = await db.fetchrow(
        f"""INSERT INTO push_tokens (owner_id, token, platform) VALUES ($1, $2, $3)
            ON CONFLICT (owner_id, token) DO UPDATE SET platform = EXCLUDED.platform RETURNING {_COLS}""",
        owner_id,
        token,
        platform,
    )
    push_token = to_row(PushToken, row)
    assert push_token is not None
    return push_token


async def list_for_owner(db: Db, owner_id: str) -> list[PushToken]:
    rows = await db.fetch(
        f"SELECT {_COLS} FROM push_tokens WHERE owner_id = $1 ORDER BY created_at", owner_id
    )
    return to_rows(PushToken, rows)


async def remove(db: Db, owner_id: str, token: str) -> bool:
    done = await db.fetchval(
        "DELETE FROM push_tokens WHERE owner_id = $1 AND token = $2 RETURNING true", owner_id, token
    )
    return bool(done)
