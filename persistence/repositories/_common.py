"""Small helpers shared by the repositories: ids, record → dataclass, keyset cursors, LIKE escaping."""

from __future__ import annotations

import base64
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Generic, TypeVar

import asyncpg

from persistence.db import Connection, Db

T = TypeVar("T")


class InvalidCursor(ValueError):
    """A pagination cursor that this server did not hand out (or that was altered)."""


def new_id(prefix: str) -> str:
    """``<prefix>_<20 hex chars>``: readable in logs, unguessable, sortable by nothing on purpose."""
    return f"{prefix}_{secrets.token_hex(10)}"


def columns(cls: type[Any], alias: str = "") -> str:
    """The dataclass's fields as a SELECT list (every repository row type mirrors its table)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + f.name for f in fields(cls) if f.init)


def to_row(cls: type[T], record: asyncpg.Record | None) -> T | None:
    if record is None:
        return None
    return cls(**dict(record.items()))


def to_rows(cls: type[T], records: list[asyncpg.Record]) -> list[T]:
    return [cls(**dict(record.items())) for record in records]


def like_pattern(text: str) -> str:
    """A substring match for ILIKE with the user's ``%`` and ``_`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, row_id = raw.split("|", 1)
        created_at = datetime.fromisoformat(stamp)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("invalid cursor") from exc
    if created_at.tzinfo is None or not row_id:
        raise InvalidCursor("invalid cursor")
    return created_at, row_id


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@contextlib.asynccontextmanager
async def transaction(db: Db) -> AsyncIterator[Connection]:
    """A connection inside a transaction: a new one from a pool, or a savepoint in the caller's."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn, conn.transaction():
            yield conn
    else:
        async with db.transaction():
            yield db
