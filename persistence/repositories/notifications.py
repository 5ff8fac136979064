"""In-app notifications (a finalized lead, a disabled webhook endpoint, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from persistence.db import Db
from persistence.repositories._common import columns, new_id, to_row, to_rows


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    owner_id: str
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    read_at: datetime | None
    created_at: datetime

    @property
    def read(self) -> bool:
        return self.read_at is not None


_COLS = columns(Notification)


async def create(
    db: Db, owner_id: str, kind: str, title: str, body: str = "", data: dict[str, Any] | None = None
) -> Notification:
    row = await db.fetchrow(
        f"""INSERT INTO notifications (id, owner_id, kind, title, body, data)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLS}""",
        new_id("ntf"),
        owner_id,
        kind,
        title,
        body,
        data or {},
    )
    notification = to_row(Notification, row)
    assert notification is not None
    return notification


async def list_for_owner(
    db: Db, owner_id: str, *, unread_only: bool = False, limit: int = 100
) -> list[Notification]:
    rows = await db.fetch(
        f"""SELECT {_COLS} FROM notifications WHERE owner_id = $1 AND (NOT $2 OR read_at IS NULL)
            ORDER BY created_at DESC, id DESC LIMIT $3""",
        owner_id,
        unread_only,
        limit,
    )
    return to_rows(Notification, rows)


async def mark_read(db: Db, owner_id: str, notification_id: str) -> Notification | None:
    row = await db.fetchrow(
        f"""UPDATE notifications SET read_at = coalesce(read_at, now())
            WHERE id = $1 AND owner_id = $2 RETURNING {_COLS}""",
        notification_id,
        owner_id,
    )
    return to_row(Notification, row)
