"""Every route in the OpenAPI document, called by a second person against the first person's objects,
answers 404 (or 403) — never the object, never a change to it."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI

from tests.gateway.api.fixtures import Person, signup
from tests.gateway.api.seed import Seeded, seed_all

# A valid body per route, so that validation passes and the ownership check is what answers.
BODIES: dict[tuple[str, str], Any] = {
    ("patch", "/v1/sessions/{session_id}"): {"title": "stolen"},
    ("patch", "/v1/sessions/{session_id}/speakers/{label}"): {"name": "Mallory"},
    ("patch", "/v1/leads/{lead_id}"): {"status": "lost", "notes": "mine now"},
    ("post", "/v1/leads/{lead_id}/email"): {"to": "mallory@example.com"},
    ("patch", "/v1/webhooks/{webhook_id}"): {"description": "mine", "enabled": False},
    ("post", "/v1/webhooks/{webhook_id}/replay"): {"since": "2000-01-01T00:00:00Z"},
}
# Routes without an object in their path: the second person gets their own (empty) view, checked below.
COLLECTIONS = {
    "/v1/sessions",
    "/v1/leads",
    "/v1/leads/export.csv",
    "/v1/events",
    "/v1/notifications",
    "/v1/webhooks",
    "/v1/api-keys",
}


async def _victim(client: httpx.AsyncClient, app: FastAPI) -> tuple[Person, Seeded, dict[str, str]]:
    alice = await signup(client, "alice")
    hook = await client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.example.com/ayka", "event_types": ["lead.finalized"]},
        headers=alice.headers,
    )
    assert hook.status_code == 201, hook.text
    seeded = await seed_all(app.state.gateway.pool, alice.id, hook.json()["id"])
    key = await client.post("/v1/api-keys", json={"name": "alice"}, headers=alice.headers)
    token = await client.post(
        "/v1/push-tokens",
        json={"token": "ExponentPushToken[alice]", "platform": "ios"},
        headers=alice.headers,
    )
    assert token.status_code == 201
    params = {
        "session_id": seeded.session_id,
        "lead_id": seeded.lead_id,
        "event_id": seeded.event_id,
        "notification_id": seeded.notification_id,
        "webhook_id": seeded.webhook_id,
        "delivery_id": seeded.delivery_id,
        "key_id": key.json()["id"],
        "label": "0",
        "token": "ExponentPushToken[alice]",
    }
    return alice, seeded, params


async def test_second_person_sees_nothing_of_the_first(client: httpx.AsyncClient, app: FastAPI) -> None:
    alice, seeded, params = await _victim(client, app)
    mallory = await signup(client, "mallory")
    paths = app.openapi()["paths"]
    walked = 0
    for path, operations in paths.items():
        names = re.findall(r"{(\w+)}", path)
        if not path.startswith("/v1/"):
            continue
        for method in operations:
            if not names:
                continue
            url = path.format(**{name: params[name] for name in names})
            query = {"expires": "9999999999", "sig": "0" * 64} if path.startswith("/v1/archive/") else None
            response = await client.request(
                method.upper(), url, headers=mallory.headers, json=BODIES.get((method, path)), params=query
            )
            # 404, never 403: another person's object does not exist for Mallory. The archive route is
            # the one exception: it has no owner, only a signature, and a forged one is refused (403).
            expected = 403 if path.startswith("/v1/archive/") else 404
            assert response.status_code == expected, f"{method.upper()} {url}: {response.status_code}"
            assert "error" in response.json()
            walked += 1
    assert walked >= 25  # every object route of the API, not a handful

    # Collections: Mallory's views hold nothing of Alice's.
    for path in sorted(COLLECTIONS):
        response = await client.get(path, headers=mallory.headers)
        assert response.status_code == 200, path
        for value in params.values():
            if len(value) > 3:
                assert value not in response.text, f"{path} leaks {value}"

    # Nothing of Alice's changed or disappeared.
    session = await client.get(f"/v1/sessions/{seeded.session_id}", headers=alice.headers)
    assert session.status_code == 200 and session.json()["title"] == "Weekly sync"
    lead = await client.get(f"/v1/leads/{seeded.lead_id}", headers=alice.headers)
    assert lead.json()["status"] == "new" and lead.json()["notes"] == ""
    hook = await client.get(f"/v1/webhooks/{seeded.webhook_id}", headers=alice.headers)
    assert hook.json()["enabled"] is True and hook.json()["description"] == ""
    speakers = await client.get(f"/v1/sessions/{seeded.session_id}/speakers", headers=alice.headers)
    assert [s["name"] for s in speakers.json()["items"]] == ["Speaker 1", "Speaker 2"]
    assert (await client.get("/v1/api-keys", headers=alice.headers)).json()["items"]
    unread = await client.get("/v1/notifications?unread=true", headers=alice.headers)
    assert [n["id"] for n in unread.json()["items"]] == [seeded.notification_id]
    deliveries = await client.get(f"/v1/webhooks/{seeded.webhook_id}/deliveries", headers=alice.headers)
    assert deliveries.json()["items"][0]["status"] == "failed"
