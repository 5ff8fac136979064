"""Webhook endpoints: CRUD, URL checks, secret rotation with overlap, reveal, deliveries and replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from agents.webhooks.outbox import EventType
from gateway.api.schemas.webhooks import WebhookEventType
from tests.gateway.api.fixtures import signup


def test_endpoints_subscribe_to_exactly_the_events_that_are_delivered() -> None:
    assert {str(t) for t in WebhookEventType} == {str(t) for t in EventType}


async def test_webhook_lifecycle(client: httpx.AsyncClient, app: FastAPI) -> None:
    person = await signup(client, "hooks")
    h = person.headers
    pool = app.state.gateway.pool
    body = {"url": "https://hooks.example.com/in", "event_types": ["lead.finalized", "session.completed"]}
    created = await client.post("/v1/webhooks", json=body, headers=h)
    assert created.status_code == 201
    hook = created.json()
    assert hook["secret"].startswith("whsec_") and hook["event_types"] == [
        "lead.finalized",
        "session.completed",
    ]
    wid = hook["id"]

    for url in ["http://127.0.0.1:9/x", "http://localhost/x", "http://10.0.0.1/x", "ftp://example.com/x"]:
        refused = await client.post("/v1/webhooks", json={**body, "url": url}, headers=h)
        assert refused.status_code == 422, url
    for event_type in ["nope", "session.ready"]:  # a bus event that no webhook carries is refused too
        refused_type = {**body, "event_types": [event_type]}
        unknown_type = await client.post("/v1/webhooks", json=refused_type, headers=h)
        assert unknown_type.status_code == 422, event_type

    listed = (await client.get("/v1/webhooks", headers=h)).json()["items"]
    assert [x["id"] for x in listed] == [wid] and "secret" not in listed[0]
    updated = await client.patch(
        f"/v1/webhooks/{wid}", json={"enabled": False, "description": "CRM"}, headers=h
    )
    assert updated.json()["enabled"] is False and updated.json()["description"] == "CRM"

    assert (await client.get(f"/v1/webhooks/{wid}/secret", headers=h)).json()["secret"] == hook["secret"]
    rotated = (await client.post(f"/v1/webhooks/{wid}/rotate-secret", headers=h)).json()
    assert rotated["secret"] != hook["secret"]
    expires = datetime.fromisoformat(rotated["previous_secret_expires_at"])
    assert abs(expires - datetime.now(UTC) - timedelta(hours=24)) < timedelta(minutes=1)
    previous = await pool.fetchval("SELECT previous_secret FROM webhook_endpoints WHERE id = $1", wid)
    assert previous == hook["secret"]

    old = datetime.now(UTC) - timedelta(days=2)
    for n, (status, created_at) in enumerate([("failed", old), ("dead", datetime.now(UTC))]):
        await pool.execute(
            """INSERT INTO webhook_deliveries (id, endpoint_id, owner_id, webhook_id, event_type, payload,
                                               status, created_at, next_attempt_at)
               VALUES ($1, $2, $3, $4, 'lead.finalized', '{"n": 1}', $5, $6, $6)""",
            f"dlv_{wid}_{n}",
            wid,
            person.id,
            f"msg_{n}",
            status,
            created_at,
        )
    deliveries = (await client.get(f"/v1/webhooks/{wid}/deliveries", headers=h)).json()["items"]
    assert [d["status"] for d in deliveries] == ["dead", "failed"]
    payload = await client.get(f"/v1/webhooks/{wid}/deliveries/dlv_{wid}_0/payload", headers=h)
    assert payload.json() == {"n": 1}
    one = await client.post(f"/v1/webhooks/{wid}/deliveries/dlv_{wid}_0/replay", headers=h)
    assert one.status_code == 202 and one.json() == {"replayed": 1}
    row = await pool.fetchrow(
        "SELECT status, next_attempt_at FROM webhook_deliveries WHERE id = $1", f"dlv_{wid}_0"
    )
    assert row["status"] == "pending" and row["next_attempt_at"] > datetime.now(UTC) - timedelta(minutes=1)
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    recent = await client.post(f"/v1/webhooks/{wid}/replay", json={"since": since}, headers=h)
    assert recent.status_code == 202 and recent.json() == {"replayed": 1}
    missing = await client.post(f"/v1/webhooks/{wid}/deliveries/dlv_nope/replay", headers=h)
    assert missing.status_code == 404

    assert (await client.delete(f"/v1/webhooks/{wid}", headers=h)).status_code == 204
    assert (await client.get(f"/v1/webhooks/{wid}", headers=h)).status_code == 404
    assert await pool.fetchval("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1", wid) == 0
