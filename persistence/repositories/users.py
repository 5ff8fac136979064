"""People who sign in. Deleting a user erases everything they own (ON DELETE CASCADE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from persistence.db import Db
from persistence.repositories._common import columns, new_id, to_row


class EmailTaken(Exception):
    """Another account already uses this email (compared case-insensitively)."""


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    password_hash: str | None
    created_at: datetime
    updated_at: datetime


_COLS = columns(User)


async def create(db: Db, email: str, password_hash: str | None, name: str = "") -> User:
    try:
        row = await db.fetchrow(
            f"INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4) RETURNING {_COLS}",
            new_id("usr"),
            email.strip(),
            name,
            password_hash,
        )
    except asyncpg.UniqueViolationError as exc:
        raise EmailTaken(email) from exc
    user = to_row(User, row)
    assert user is not None
    return user


async def get(db: Db, user_id: str) -> User | None:
    return to_row(User, await db.fetchrow(f"SELECT {_COLS} FROM users WHERE id = $1", user_id))


async def get_by_email(db: Db, email: str) -> User | None:
    row = await db.fetchrow(f"SELECT {_COLS} FROM users WHERE lower(email) = lower($1)", email.strip())
    return to_row(User, row)


async def update_password(db: Db, user_id: str, password_hash: str) -> bool:
    done = await db.fetchval(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1 RETURNING true",
        user_id,
        password_hash,
    )
    return bool(done)


async def update_name(db: Db, user_id: str, name: str) -> User | None:
    row = await db.fetchrow(
        f"UPDATE users SET name = $2, updated_at = now() WHERE id = $1 RETURNING {_COLS}", user_id, name
    )
    return to_row(User, row)


async def delete(db: Db, user_id: str) -> bool:
    """Erase the user and, by cascade, every row they own (audit rows stay, with owner_id NULL)."""
    return bool(await db.fetchval("DELETE FROM users WHERE id = $1 RETURNING true", user_id))
