"""The delivery outbox as its owner sees it (filtered by status, which the repository does not offer)."""

from __future__ import annotations

import asyncpg

from persistence.db import Db

DELIVERY_COLUMNS = (
    "id, webhook_id, event_type, status, attempts, next_attempt_at, last_status_code, last_error, "
    "created_at, delivered_at"
)


async def list_deliveries(
    db: Db, owner_id: str, endpoint_id: str, *, status: str | None, limit: int
) -> list[asyncpg.Record]:
    return await db.fetch(
        f"""SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
            WHERE endpoint_id = $1 AND owner_id = $2 AND ($3::text IS NULL OR status = $3)
            ORDER BY created_at DESC, id DESC LIMIT $4""",
        endpoint_id,
        owner_id,
        status,
        limit,
    )
