"""Rate limits and stream slots, shared by gateways through the NATS KV bucket ``rate-limits``."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from gateway.ratelimit import WINDOW_S, TooManyStreams, acquire_stream_slot, count_stream_slots, hit
from tests.gateway.api.fixtures import make_settings, running, signup


async def _in_one_window(needed_s: float = 20.0) -> None:
    """Wait, if need be, until the current window has ``needed_s`` left. Counters are fixed windows
    (by design, see gateway/ratelimit.py), so requests that straddle a minute boundary start counting
    afresh: a test that counts to a limit must run inside one window (seen in CI: 21 logins straddled a
    minute boundary and the 21st was allowed)."""
    left = WINDOW_S - time.time() % WINDOW_S
    if left < needed_s:
        await asyncio.sleep(left + 0.1)


async def test_limit_headers_and_429_shared_by_two_gateways(
    tmp_path: Path, database_url: str, nats_url: str, nc: Any
) -> None:
    await _in_one_window()
    settings = make_settings(tmp_path, database_url, nats_url, rate_limit_per_minute=5)
    address = f"2001:db8::1:{uuid.uuid4().hex[:4]}"  # sign-ups of earlier tests do not count
    async with running(settings, address) as (_, first), running(settings, address) as (_, second):
        person = await signup(first, "limited")  # signup + /users/me: 1 request counted (me)
        ok = await second.get("/v1/sessions", headers=person.headers)
        assert ok.status_code == 200
        assert ok.headers["RateLimit-Policy"] == '"minute";q=5;w=60'
        assert re.fullmatch(r'"minute";r=3;t=\d+', ok.headers["RateLimit"])
        statuses = [
            (await (first, second)[n % 2].get("/v1/sessions", headers=person.headers)) for n in range(4)
        ]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429]
        refused = statuses[-1]
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert re.fullmatch(r'"minute";r=0;t=\d+', refused.headers["RateLimit"])
        # Another person is not affected by the first one's limit.
        other = await signup(second, "unlimited")
        assert (await first.get("/v1/sessions", headers=other.headers)).status_code == 200


async def test_each_api_key_has_its_own_limit(
    tmp_path: Path, database_url: str, nats_url: str, nc: Any
) -> None:
    await _in_one_window()
    settings = make_settings(tmp_path, database_url, nats_url, rate_limit_per_minute=5)
    address = f"2001:db8::2:{uuid.uuid4().hex[:4]}"
    async with running(settings, address) as (_, client):
        person = await signup(client, "keyed")
        keys = []
        for name in ("crm", "laptop"):
            made = await client.post(
                "/v1/api-keys", json={"name": name, "scopes": ["read"]}, headers=person.headers
            )
            assert made.status_code == 201, made.text
            keys.append({"Authorization": f"Token {made.json()['key']}"})
        crm, laptop = keys
        codes = [(await client.get("/v1/sessions", headers=crm)).status_code for _ in range(6)]
        assert codes == [200] * 5 + [429]
        # The other key of the same person, and the person's own log-in, each count on their own.
        assert (await client.get("/v1/sessions", headers=laptop)).status_code == 200
        assert (await client.get("/v1/sessions", headers=person.headers)).status_code == 200


async def test_login_attempts_limited_per_client(
    tmp_path: Path, database_url: str, nats_url: str, nc: Any
) -> None:
    await _in_one_window()
    settings = make_settings(tmp_path, database_url, nats_url, rate_limit_per_minute=100)
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"  # a fresh client address: earlier tests do not count
    async with running(settings, address) as (_, client):
        body = {"email": "guess@example.com", "password": "guess"}
        codes = [(await client.post("/v1/auth/login", json=body)).status_code for _ in range(21)]
        assert codes[:20] == [401] * 20 and codes[20] == 429


async def test_window_resets(js: Any) -> None:
    key = f"test.{uuid.uuid4().hex}"
    start = 1_000_040.0  # 20 s into a window
    assert (await hit(js, key, 2, now_s=start)).remaining == 1
    assert (await hit(js, key, 2, now_s=start + 1)).remaining == 0
    refused = await hit(js, key, 2, now_s=start + 2)
    assert not refused.allowed and refused.reset_s == 38
    assert (await hit(js, key, 2, now_s=start + 40)).allowed  # next window


class _State:
    """What acquire_stream_slot reads from a GatewayState: its JetStream context and settings."""

    def __init__(self, js: Any, settings: Any) -> None:
        self.js = js
        self.settings = settings


async def test_concurrent_stream_limit(js: Any, tmp_path: Path) -> None:
    from ayka.settings import Settings

    state: Any = _State(js, Settings(data_dir=tmp_path, max_streams_per_owner=2))
    owner = uuid.uuid4().hex
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(acquire_stream_slot(state, owner))
        await stack.enter_async_context(acquire_stream_slot(state, owner))
        assert await count_stream_slots(js, owner) == 2
        with pytest.raises(TooManyStreams) as refused:
            await stack.enter_async_context(acquire_stream_slot(state, owner))
        assert refused.value.code == "too_many_streams" and refused.value.status == 429
        async with acquire_stream_slot(state, uuid.uuid4().hex):  # other accounts are unaffected
            pass
    assert await count_stream_slots(js, owner) == 0
    async with acquire_stream_slot(state, owner):
        assert await count_stream_slots(js, owner) == 1


async def test_a_stream_slot_is_given_back_when_its_renewal_loses_its_cancel(
    js: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On Python 3.11 asyncio.wait_for (in every nats-py request) returns the reply instead of raising when
    # the cancel lands as the reply arrives. The slot's renewer then lived on: the stream's handler waited
    # for it forever and the account lost the slot for good.
    from gateway import ratelimit

    change = ratelimit._change_slots
    in_renewal = asyncio.Event()

    async def renewal_that_loses_its_cancel(kv: Any, key: str, what: str, *args: Any) -> None:
        if what != "renew":
            return await change(kv, key, what, *args)
        in_renewal.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)  # the request in flight; the cancel is swallowed, as wait_for does

    monkeypatch.setattr(ratelimit, "_change_slots", renewal_that_loses_its_cancel)
    owner = uuid.uuid4().hex

    async def stream() -> None:
        async with ratelimit.stream_slot(js, owner, 2, ttl_s=0.3):
            await in_renewal.wait()

    await asyncio.wait_for(stream(), 10)
    assert await count_stream_slots(js, owner) == 0
    await asyncio.sleep(0.5)  # no renewal brings it back
    assert await count_stream_slots(js, owner) == 0
