"""Announcing an event: one outbox row per subscribed endpoint, in the caller's transaction.

The envelope is Standard Webhooks' ``{type, timestamp, data}``. Bodies over ``MAX_BODY_BYTES`` are
sent as a stub carrying ``fetch_url`` (the full payload stays in the outbox row, served by the API).
"""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

from ayka.settings import Settings
from persistence.db import Db
from persistence.repositories import deliveries
from persistence.repositories.deliveries import Delivery

MAX_BODY_BYTES = 20 * 1024


class EventType(enum.StrEnum):
    LEAD_FINALIZED = "lead.finalized"
    SESSION_COMPLETED = "session.completed"
    TRANSCRIPT_FINALIZED = "transcript.finalized"


def envelope(event_type: EventType, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"type": str(event_type), "timestamp": now.isoformat(), "data": data}


async def announce(
    db: Db, owner_id: str, event_type: EventType, data: dict[str, Any], now: datetime
) -> list[Delivery]:
    """Queue ``event_type`` for every enabled endpoint of the owner that subscribed to it. Pass the
    connection of the transaction that writes what is announced, so both commit or neither does."""
    return await deliveries.enqueue(db, owner_id, str(event_type), envelope(event_type, data, now))


def fetch_url(settings: Settings, delivery: Delivery) -> str:
    return f"{settings.gateway_url}/v1/webhooks/{delivery.endpoint_id}/deliveries/{delivery.id}/payload"


def render_body(settings: Settings, delivery: Delivery) -> str:
    """The JSON body to send: the payload, or a stub with a link when it is larger than 20 kB."""
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    size = len(body.encode())
    if size <= MAX_BODY_BYTES:
        return body
    data = delivery.payload.get("data", {})
    ids = {k: v for k, v in data.items() if isinstance(k, str) and k.endswith("id") and isinstance(v, str)}
    stub = {
        "type": delivery.payload.get("type", delivery.event_type),
        "timestamp": delivery.payload.get("timestamp"),
        "data": {**ids, "truncated": True, "size_bytes": size, "fetch_url": fetch_url(settings, delivery)},
    }
    return json.dumps(stub, separators=(",", ":"), ensure_ascii=False)
