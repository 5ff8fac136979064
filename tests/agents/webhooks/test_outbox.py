from __future__ import annotations

import json
from datetime import UTC, datetime

from agents.webhooks.outbox import MAX_BODY_BYTES, EventType, envelope, render_body
from ayka.settings import Settings
from persistence.repositories.deliveries import Delivery


def delivery(payload: dict[str, object]) -> Delivery:
    now = datetime.now(UTC)
    return Delivery(
        id="dlv_1", endpoint_id="wh_1", owner_id="usr_1", webhook_id="msg_1", event_type="lead.finalized",
        payload=payload, status="pending", attempts=0, next_attempt_at=now, last_status_code=None,
        last_error=None, created_at=now, delivered_at=None,
    )  # fmt: skip


def test_small_payloads_go_whole() -> None:
    payload = envelope(EventType.LEAD_FINALIZED, {"lead_id": "lead_1"}, datetime.now(UTC))
    assert json.loads(render_body(Settings(), delivery(payload))) == payload


def test_payloads_over_20_kb_carry_a_link() -> None:
    data = {"lead_id": "lead_1", "session_id": "s1", "evidence": ["x" * 100] * 300}
    payload = envelope(EventType.LEAD_FINALIZED, data, datetime.now(UTC))
    body = render_body(Settings(public_url="https://ayka.example.com"), delivery(payload))
    assert len(body) < MAX_BODY_BYTES
    stub = json.loads(body)
    assert stub["type"] == "lead.finalized"
    assert stub["data"]["truncated"] is True and stub["data"]["lead_id"] == "lead_1"
    assert stub["data"]["size_bytes"] > MAX_BODY_BYTES
    assert stub["data"]["fetch_url"] == "https://ayka.example.com/v1/webhooks/wh_1/deliveries/dlv_1/payload"
