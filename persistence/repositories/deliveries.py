"""The webhook outbox: one row per (event, endpoint), written in the same transaction as what it announces.

States: ``pending`` (waiting for ``next_attempt_at``) → ``delivering`` (claimed by a worker until
``next_attempt_at``, its lease; a crashed worker's claim simply expires) → ``succeeded``, or back to
``pending`` with a later ``next_attempt_at``, or ``failed`` (attempts exhausted) / ``dead`` (endpoint
disabled). ``webhook_id`` (the Standard Webhooks message id) stays the same across retries and replays.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from persistence.db import Db
from persistence.repositories._common import columns, new_id, to_row, to_rows


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERING = "delivering"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    endpoint_id: str
    owner_id: str
    webhook_id: str
    event_type: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


_COLS = columns(Delivery)
_COLS_D = columns(Delivery, "d")


async def enqueue(
    db: Db,
    owner_id: str,
    event_type: str,
    payload: dict[str, Any],
    webhook_id: str | None = None,
    *,
    next_attempt_at: datetime | None = None,
) -> list[Delivery]:
    """One delivery per enabled endpoint of ``owner_id`` subscribed to ``event_type``, due at
    ``next_attempt_at`` (default: the database's now). Pass the caller's connection (inside its
    transaction) so the event and its announcement commit together."""
    rows = await db.fetch(
        f"""INSERT INTO webhook_deliveries (id, endpoint_id, owner_id, webhook_id, event_type, payload,
                                            next_attempt_at)
            SELECT 'dlv_' || substr(md5(gen_random_uuid()::text), 1, 20),
                   e.id, e.owner_id, $3, $2, $4, coalesce($5, now())
            FROM webhook_endpoints e
            WHERE e.owner_id = $1 AND e.enabled AND $2 = ANY (e.event_types)
            RETURNING {_COLS}""",
        owner_id,
        event_type,
        webhook_id or new_id("msg"),
        payload,
        next_attempt_at,
    )
    return to_rows(Delivery, rows)


async def enqueue_to_endpoint(
    db: Db,
    owner_id: str,
    endpoint_id: str,
    event_type: str,
    payload: dict[str, Any],
    webhook_id: str | None = None,
    *,
    next_attempt_at: datetime | None = None,
) -> Delivery | None:
    """One delivery to one endpoint of this owner (a test ping); None when the endpoint is not theirs."""
    row = await db.fetchrow(
        f"""INSERT INTO webhook_deliveries (id, endpoint_id, owner_id, webhook_id, event_type, payload,
                                            next_attempt_at)
            SELECT $1, e.id, e.owner_id, $4, $5, $6, coalesce($7, now()) FROM webhook_endpoints e
            WHERE e.id = $2 AND e.owner_id = $3
            RETURNING {_COLS}""",
        new_id("dlv"),
        endpoint_id,
        owner_id,
        webhook_id or new_id("msg"),
        event_type,
        payload,
        next_attempt_at,
    )
    return to_row(Delivery, row)


async def claim_due(db: Db, now: datetime, limit: int = 20, lease_s: float = 60.0) -> list[Delivery]:
    """Internal (delivery worker): take up to ``limit`` due deliveries for ``lease_s`` seconds. Concurrent
    workers never get the same row (FOR UPDATE SKIP LOCKED); an expired lease is due again."""
    rows = await db.fetch(
        f"""UPDATE webhook_deliveries d SET status = 'delivering', next_attempt_at = $2
            FROM (SELECT id FROM webhook_deliveries
                  WHERE status IN ('pending', 'delivering') AND next_attempt_at <= $1
                  ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) due
            WHERE d.id = due.id RETURNING {_COLS_D}""",
        now,
        now + timedelta(seconds=lease_s),
        limit,
    )
    return sorted(to_rows(Delivery, rows), key=lambda d: (d.created_at, d.id))


async def mark_succeeded(db: Db, delivery_id: str, status_code: int, now: datetime) -> bool:
    done = await db.fetchval(
        """UPDATE webhook_deliveries SET status = 'succeeded', attempts = attempts + 1,
               last_status_code = $2, last_error = NULL, delivered_at = $3
           WHERE id = $1 RETURNING true""",
        delivery_id,
        status_code,
        now,
    )
    return bool(done)


async def mark_failed(
    db: Db, delivery_id: str, *, status_code: int | None, error: str, retry_at: datetime | None
) -> bool:
    """One attempt failed: retry at ``retry_at``, or give up (``failed``) when it is None."""
    done = await db.fetchval(
        """UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = $2, last_error = $3,
               status = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
               next_attempt_at = coalesce($4, next_attempt_at)
           WHERE id = $1 RETURNING true""",
        delivery_id,
        status_code,
        error[:2000],
        retry_at,
    )
    return bool(done)


async def mark_dead_for_endpoint(db: Db, endpoint_id: str, reason: str) -> int:
    """Internal: the endpoint was disabled; its waiting deliveries stop."""
    rows = await db.fetch(
        """UPDATE webhook_deliveries SET status = 'dead', last_error = $2
           WHERE endpoint_id = $1 AND status IN ('pending', 'delivering') RETURNING id""",
        endpoint_id,
        reason,
    )
    return len(rows)


async def get(db: Db, owner_id: str, delivery_id: str) -> Delivery | None:
    row = await db.fetchrow(
        f"SELECT {_COLS} FROM webhook_deliveries WHERE id = $1 AND owner_id = $2", delivery_id, owner_id
    )
    return to_row(Delivery, row)


async def list_for_endpoint(db: Db, owner_id: str, endpoint_id: str, limit: int = 100) -> list[Delivery]:
    rows = await db.fetch(
        f"""SELECT {_COLS} FROM webhook_deliveries WHERE endpoint_id = $1 AND owner_id = $2
            ORDER BY created_at DESC, id DESC LIMIT $3""",
        endpoint_id,
        owner_id,
        limit,
    )
    return to_rows(Delivery, rows)


async def replay(db: Db, owner_id: str, endpoint_id: str, delivery_id: str, now: datetime) -> Delivery | None:
    """Deliver again from the start of the schedule, same ``webhook_id``."""
    row = await db.fetchrow(
        f"""UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $4,
               delivered_at = NULL
            WHERE id = $1 AND endpoint_id = $2 AND owner_id = $3 RETURNING {_COLS}""",
        delivery_id,
        endpoint_id,
        owner_id,
        now,
    )
    return to_row(Delivery, row)


async def replay_failed_since(db: Db, owner_id: str, endpoint_id: str, since: datetime, now: datetime) -> int:
    """Replay every ``failed`` / ``dead`` delivery of the endpoint created at or after ``since``."""
    rows = await db.fetch(
        """UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $4
           WHERE endpoint_id = $1 AND owner_id = $2 AND created_at >= $3 AND status IN ('failed', 'dead')
           RETURNING id""",
        endpoint_id,
        owner_id,
        since,
        now,
    )
    return len(rows)
