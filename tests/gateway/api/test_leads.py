"""Leads (pipeline edits, CSV export), events, notifications and push tokens."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from tests.gateway.api.fixtures import make_settings, running, signup
from tests.gateway.api.seed import seed_all, seed_lead


async def test_leads_pipeline_and_csv(client: httpx.AsyncClient, app: FastAPI) -> None:
    person = await signup(client, "seller")
    h = person.headers
    hook = await client.post(
        "/v1/webhooks", json={"url": "https://h.example.com/", "event_types": ["lead.finalized"]}, headers=h
    )
    seeded = await seed_all(app.state.gateway.pool, person.id, hook.json()["id"])
    formula = await seed_lead(app.state.gateway.pool, person.id, seeded.session_id, person="=HYPERLINK(1)")
    lead = (await client.get(f"/v1/leads/{seeded.lead_id}", headers=h)).json()
    assert lead["status"] == "new" and lead["score"] == 80 and lead["email_draft"]["subject"] == "Hi"
    assert lead["evidence"][0]["quote"] == "we have budget"

    for step in ["contacted", "qualified", "won"]:
        moved = await client.patch(f"/v1/leads/{seeded.lead_id}", json={"status": step}, headers=h)
        assert moved.status_code == 200 and moved.json()["status"] == step
    noted = await client.patch(
        f"/v1/leads/{seeded.lead_id}", json={"notes": "call back", "company": "AE Ltd"}, headers=h
    )
    assert noted.json()["notes"] == "call back" and noted.json()["company"] == "AE Ltd"
    assert noted.json()["status"] == "won"
    bad = await client.patch(f"/v1/leads/{seeded.lead_id}", json={"status": "maybe"}, headers=h)
    assert bad.status_code == 422
    unknown = await client.patch(f"/v1/leads/{seeded.lead_id}", json={"score": 100}, headers=h)
    assert unknown.status_code == 422  # score is the agents' judgement, not an owner edit

    won = await client.get("/v1/leads", params={"status": "won"}, headers=h)
    assert [x["id"] for x in won.json()["items"]] == [seeded.lead_id]
    export = await client.get("/v1/leads/export.csv", headers=h)
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert {r["id"] for r in rows} == {seeded.lead_id, formula}
    assert next(r for r in rows if r["id"] == formula)["person"] == "'=HYPERLINK(1)"

    assert (await client.delete(f"/v1/leads/{formula}", headers=h)).status_code == 204
    assert (await client.get(f"/v1/leads/{formula}", headers=h)).status_code == 404

    events = (await client.get("/v1/events", params={"session_id": seeded.session_id}, headers=h)).json()
    assert [e["name"] for e in events["items"]] == ["Demo"]
    event = (await client.get(f"/v1/events/{seeded.event_id}", headers=h)).json()
    assert event["starts_at"] == "2030-01-02T15:00:00Z"
    none_after = await client.get("/v1/events", params={"since": "2031-01-01T00:00:00Z"}, headers=h)
    assert none_after.json()["items"] == []

    unread = (await client.get("/v1/notifications", params={"unread": "true"}, headers=h)).json()["items"]
    assert [n["id"] for n in unread] == [seeded.notification_id] and unread[0]["read"] is False
    read = await client.post(f"/v1/notifications/{seeded.notification_id}/read", headers=h)
    assert read.json()["read"] is True
    assert (await client.get("/v1/notifications?unread=true", headers=h)).json()["items"] == []

    token = {"token": "ExponentPushToken[abc]", "platform": "android"}
    assert (await client.post("/v1/push-tokens", json=token, headers=h)).status_code == 201
    assert (await client.post("/v1/push-tokens", json=token, headers=h)).status_code == 201  # idempotent
    bad_platform = await client.post("/v1/push-tokens", json={**token, "platform": "fax"}, headers=h)
    assert bad_platform.status_code == 422
    assert (await client.delete("/v1/push-tokens/ExponentPushToken[abc]", headers=h)).status_code == 204


async def test_send_lead_email_errors(tmp_path: Path, database_url: str, nats_url: str, nc: Any) -> None:
    plain = make_settings(tmp_path, database_url, nats_url)
    async with running(plain) as (app, client):
        person = await signup(client, "mailer")
        sid = (
            await seed_all(app.state.gateway.pool, person.id, await _hook(client, person.headers))
        ).session_id
        lead_id = await seed_lead(app.state.gateway.pool, person.id, sid)
        url = f"/v1/leads/{lead_id}/email"
        not_configured = await client.post(url, json={"to": "ada@example.com"}, headers=person.headers)
        assert not_configured.status_code == 409
        assert not_configured.json()["error"]["code"] == "smtp_not_configured"
    settings = plain.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": 9, "smtp_from": "a@b.co"})
    async with running(settings) as (app, client):
        bad = await client.post(url, json={"to": "not an address"}, headers=person.headers)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_recipient", bad.text
        unreachable = await client.post(url, json={"to": "ada@example.com"}, headers=person.headers)
        assert unreachable.status_code == 502 and unreachable.json()["error"]["code"] == "email_failed"
        await app.state.gateway.pool.execute("UPDATE leads SET email_draft = NULL WHERE id = $1", lead_id)
        no_draft = await client.post(url, json={"to": "ada@example.com"}, headers=person.headers)
        assert no_draft.status_code == 409 and no_draft.json()["error"]["code"] == "no_email_draft"
        missing = await client.post(
            "/v1/leads/lead_nope/email", json={"to": "a@b.co"}, headers=person.headers
        )
        assert missing.status_code == 404


async def _hook(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    body = {"url": "https://h.example.com/", "event_types": ["lead.finalized"]}
    hook_id: str = (await client.post("/v1/webhooks", json=body, headers=headers)).json()["id"]
    return hook_id
