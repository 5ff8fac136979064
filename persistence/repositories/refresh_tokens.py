"""Refresh tokens: rotated on every use, grouped in families so that reuse revokes the whole family."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from persistence.db import Db
from persistence.repositories._common import columns, new_id, to_row


@dataclass(frozen=True, slots=True)
class RefreshToken:
    id: str
    user_id: str
    family_id: str
    token_hash: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


_COLS = columns(RefreshToken)


async def issue(db: Db, user_id: str, family_id: str, token_hash: str, expires_at: datetime) -> RefreshToken:
    row = await db.fetchrow(
        f"""INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at)
            VALUES ($1, $2, $3, $4, $5) RETURNING {_COLS}""",
        new_id("rt"),
        user_id,
        family_id,
        token_hash,
        expires_at,
    )
    token = to_row(RefreshToken, row)
    assert token is not None
    return token


async def find_by_hash(db: Db, token_hash: str) -> RefreshToken | None:
    """The token presented identifies its user: no owner filter."""
    row = await db.fetchrow(f"SELECT {_COLS} FROM refresh_tokens WHERE token_hash = $1", token_hash)
    return to_row(RefreshToken, row)


async def mark_used(db: Db, user_id: str, token_id: str) -> bool:
    """Atomically consume a token of ``user_id``: True for exactly one caller; False when it was used or
    revoked already, or is not this user's (the caller then treats it as reuse and revokes the family)."""
    done = await db.fetchval(
        """UPDATE refresh_tokens SET used_at = now()
           WHERE id = $1 AND user_id = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
           RETURNING true""",
        token_id,
        user_id,
    )
    return bool(done)


async def revoke_family(db: Db, user_id: str, family_id: str) -> int:
    """Revoke every live token of one of ``user_id``'s families; another user's family is untouched."""
    rows = await db.fetch(
        """UPDATE refresh_tokens SET revoked_at = now()
           WHERE family_id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id""",
        family_id,
        user_id,
    )
    return len(rows)


async def revoke_all_for_user(db: Db, user_id: str) -> int:
    rows = await db.fetch(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING id",
        user_id,
    )
    return len(rows)


async def delete_expired(db: Db, before: datetime) -> int:
    rows = await db.fetch("DELETE FROM refresh_tokens WHERE expires_at < $1 RETURNING id", before)
    return len(rows)
