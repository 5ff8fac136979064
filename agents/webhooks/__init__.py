"""Standard Webhooks delivery: signing, the outbox, the SSRF guard, the retrying delivery worker."""

from __future__ import annotations

from datetime import datetime

from agents.webhooks.clock import Clock, SystemClock
from agents.webhooks.delivery import DeliveryWorker, run_webhook_worker
from agents.webhooks.outbox import MAX_BODY_BYTES, EventType, announce, render_body
from agents.webhooks.schedule import MAX_ATTEMPTS, RETRY_DELAYS_S
from agents.webhooks.signing import new_secret, signature_headers
from ayka.netguard import UnsafeTarget, check_target
from persistence.db import Db
from persistence.repositories import deliveries

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_BODY_BYTES",
    "RETRY_DELAYS_S",
    "Clock",
    "DeliveryWorker",
    "EventType",
    "SystemClock",
    "UnsafeTarget",
    "announce",
    "check_target",
    "new_secret",
    "render_body",
    "replay_delivery",
    "replay_failed_since",
    "run_webhook_worker",
    "signature_headers",
]


async def replay_delivery(db: Db, owner_id: str, endpoint_id: str, delivery_id: str, clock: Clock) -> bool:
    """Send one delivery again from the start of the schedule, with the same ``webhook-id``."""
    return await deliveries.replay(db, owner_id, endpoint_id, delivery_id, clock.now()) is not None


async def replay_failed_since(db: Db, owner_id: str, endpoint_id: str, since: datetime, clock: Clock) -> int:
    """Send again every failed (or dead) delivery of the endpoint created since ``since``."""
    return await deliveries.replay_failed_since(db, owner_id, endpoint_id, since, clock.now())
