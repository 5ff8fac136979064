"""Erasure is complete, checked at the source: rows in PostgreSQL, objects on the real S3 server,
messages in JetStream. Retention deletes old audio and keeps the transcript."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest
from fastapi import FastAPI
from nats.js.errors import NotFoundError

from ayka import bus
from gateway.api.erasure import purge_expired_audio
from persistence.repositories import sessions
from tests.gateway.api.fixtures import make_settings, running, signup
from tests.gateway.api.seed import seed_all, seed_session

OWNED_TABLES = ["sessions", "leads", "events", "summaries", "notifications", "webhook_endpoints",
                "webhook_deliveries", "api_keys", "push_tokens"]  # fmt: skip


@pytest.fixture(scope="module")
async def s3_api(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, nats_url: str, nc: Any, s3: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, str]]:
    prefix = f"erasure-{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        tmp_path_factory.mktemp("s3api"),
        database_url,
        nats_url,
        archive_url=s3.archive_url(prefix),
        s3_endpoint_url=s3.endpoint_url,
        s3_access_key_id=s3.access_key,
        s3_secret_access_key=s3.secret_key,
        s3_region=s3.region,
        retention_days=1,
    )
    async with running(settings) as (app, client):
        yield app, client, prefix


def s3_keys(s3: Any, prefix: str) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint_url,
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
        region_name=s3.region,
    )
    found = client.list_objects_v2(Bucket=s3.bucket, Prefix=prefix + "/")
    return [item["Key"] for item in found.get("Contents", [])]


async def archive_and_publish(app: FastAPI, session_id: str, *, publish: bool = True) -> None:
    """What the services would have left behind: archived audio and messages on the bus."""
    state = app.state.gateway

    def archive() -> Any:
        writer = state.archive.writer(session_id)
        for seq in range(5):
            writer.append(seq, b"\x02\x00" * 1600)
        return writer.finalize("flac")

    audio = await asyncio.to_thread(archive)
    await sessions.mark_archived(state.pool, session_id, audio)
    if not publish:
        return
    await state.js.publish(bus.audio_subject(session_id), b"\x00" * 3200, headers={bus.HDR_SEQ: "0"})
    final = bus.TranscriptResult(session_id=session_id, is_final=True, start_s=0, end_s=1, transcript="hi")
    await state.js.publish(bus.final_subject(session_id), final.model_dump_json().encode())
    event = bus.SessionEvent(session_id=session_id, owner_id="someone").model_dump_json().encode()
    for _stream, kind in LIFECYCLE:
        await state.js.publish(bus.event_subject(kind, session_id), event)


LIFECYCLE = [
    (bus.SESSIONS_STREAM, bus.SESSION_START),
    (bus.SESSIONS_STREAM, bus.SESSION_END),
    (bus.EVENTS_STREAM, bus.SESSION_READY),
    (bus.EVENTS_STREAM, bus.SESSION_DIARIZED),
    (bus.EVENTS_STREAM, bus.LEAD_FINALIZED),
    (bus.EVENTS_STREAM, bus.AGENTS_DONE),
]


async def bus_keeps_nothing_of(app: FastAPI, session_id: str) -> None:
    assert not await bus_has(app, bus.AUDIO_STREAM, bus.audio_subject(session_id))
    assert not await bus_has(app, bus.TRANSCRIPTS_STREAM, bus.final_subject(session_id))
    for stream, kind in LIFECYCLE:
        assert not await bus_has(app, stream, bus.event_subject(kind, session_id)), kind


async def bus_has(app: FastAPI, stream: str, subject: str) -> bool:
    try:
        await app.state.gateway.js.get_last_msg(stream, subject)
        return True
    except NotFoundError:
        return False


async def test_delete_session_erases_rows_audio_and_bus(s3_api: Any, s3: Any) -> None:
    app, client, prefix = s3_api
    person = await signup(client, "erase-one")
    hook = await client.post(
        "/v1/webhooks",
        json={"url": "https://h.example.com/", "event_types": ["lead.finalized"]},
        headers=person.headers,
    )
    seeded = await seed_all(app.state.gateway.pool, person.id, hook.json()["id"])
    keep = await seed_session(app.state.gateway.pool, person.id, title="keep me")
    sid = seeded.session_id
    await archive_and_publish(app, sid)
    await archive_and_publish(app, keep)
    assert any(key.startswith(f"{prefix}/{sid}/") for key in s3_keys(s3, prefix))
    assert await bus_has(app, bus.AUDIO_STREAM, bus.audio_subject(sid))

    assert (await client.delete(f"/v1/sessions/{sid}", headers=person.headers)).status_code == 204

    pool = app.state.gateway.pool
    for table in ["segments", "speakers", "diarization_turns", "summaries", "leads", "events"]:
        assert await pool.fetchval(f"SELECT count(*) FROM {table} WHERE session_id = $1", sid) == 0, table
    assert await pool.fetchval("SELECT count(*) FROM sessions WHERE id = $1", sid) == 0
    assert not [key for key in s3_keys(s3, prefix) if key.startswith(f"{prefix}/{sid}/")]
    await bus_keeps_nothing_of(app, sid)
    # The other session is untouched.
    assert any(key.startswith(f"{prefix}/{keep}/") for key in s3_keys(s3, prefix))
    assert await bus_has(app, bus.AUDIO_STREAM, bus.audio_subject(keep))
    for stream, kind in LIFECYCLE:
        assert await bus_has(app, stream, bus.event_subject(kind, keep)), kind
    assert (await client.get(f"/v1/sessions/{keep}/audio", headers=person.headers)).status_code == 200


async def test_delete_account_erases_everything(s3_api: Any, s3: Any) -> None:
    app, client, prefix = s3_api
    person = await signup(client, "erase-all")
    bystander = await signup(client, "bystander")
    pool = app.state.gateway.pool
    hook = await client.post(
        "/v1/webhooks",
        json={"url": "https://h.example.com/", "event_types": ["lead.finalized"]},
        headers=person.headers,
    )
    seeded = await seed_all(pool, person.id, hook.json()["id"])
    second = await seed_session(pool, person.id)
    other = await seed_session(pool, bystander.id)
    for sid in (seeded.session_id, second, other):
        await archive_and_publish(app, sid)
    await client.post("/v1/api-keys", json={"name": "k"}, headers=person.headers)
    await client.post(
        "/v1/push-tokens", json={"token": "ExponentPushToken[x]", "platform": "ios"}, headers=person.headers
    )

    assert (await client.delete("/v1/users/me", headers=person.headers)).status_code == 204

    for table in OWNED_TABLES:
        assert await pool.fetchval(f"SELECT count(*) FROM {table} WHERE owner_id = $1", person.id) == 0, table
    assert await pool.fetchval("SELECT count(*) FROM users WHERE id = $1", person.id) == 0
    assert await pool.fetchval("SELECT count(*) FROM refresh_tokens WHERE user_id = $1", person.id) == 0
    keys = s3_keys(s3, prefix)
    for sid in (seeded.session_id, second):
        assert not [k for k in keys if k.startswith(f"{prefix}/{sid}/")]
        await bus_keeps_nothing_of(app, sid)
    assert await bus_has(app, bus.EVENTS_STREAM, bus.event_subject(bus.SESSION_READY, other))
    assert any(k.startswith(f"{prefix}/{other}/") for k in keys)
    audit = await pool.fetchrow(
        "SELECT owner_id, action, detail FROM audit_log WHERE target = $1 AND action = 'user.delete'",
        f"user:{person.id}",
    )
    assert (
        audit["owner_id"] is None and audit["action"] == "user.delete" and audit["detail"] == {"sessions": 2}
    )
    assert (await client.get(f"/v1/sessions/{other}", headers=bystander.headers)).status_code == 200


async def test_retention_deletes_old_audio_keeps_transcript(s3_api: Any, s3: Any) -> None:
    app, client, prefix = s3_api
    state = app.state.gateway
    person = await signup(client, "retention")
    old, fresh = await seed_session(state.pool, person.id), await seed_session(state.pool, person.id)
    await archive_and_publish(app, old, publish=False)
    await archive_and_publish(app, fresh, publish=False)
    await state.pool.execute(
        "UPDATE sessions SET archived_at = $2 WHERE id = $1", old, datetime.now(UTC) - timedelta(days=3)
    )
    assert await purge_expired_audio(state) >= 1
    keys = s3_keys(s3, prefix)
    assert not [k for k in keys if k.startswith(f"{prefix}/{old}/")]
    assert any(k.startswith(f"{prefix}/{fresh}/") for k in keys)
    assert (await client.get(f"/v1/sessions/{old}/audio", headers=person.headers)).status_code == 404
    transcript = await client.get(f"/v1/sessions/{old}/transcript?format=txt", headers=person.headers)
    assert "Hello there." in transcript.text
    assert await purge_expired_audio(state) == 0  # nothing left to do
