"""A customer's webhook receiver that is down for a while (connection refused, then 503s) gets every
event later, exactly once per ``webhook-id``, from the real delivery worker over a real PostgreSQL.
Time is injected (the retry schedule spans hours); the receiver is a real local HTTP server."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from agents.webhooks import EventType, announce, new_secret, run_webhook_worker
from ayka.runtime.process import free_port
from ayka.settings import Settings
from persistence.db import Pool, create_pool
from persistence.repositories import deliveries, users, webhooks
from tests.fixtures.postgres import MakeDatabase

EVENTS = 12


class MovableClock:
    def __init__(self) -> None:
        self.current = datetime.now(UTC) + timedelta(seconds=1)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class Receiver:
    """A minimal HTTP/1.1 server: answers ``status`` to every POST and records what it got. ``stop()``
    closes the port (connection refused)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.status = 200
        self.received: list[tuple[str, dict[str, object], int]] = []  # (webhook-id, body, status answered)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            headers = {}
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self.status
            self.received.append((headers.get("webhook-id", ""), json.loads(body), status))
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
            await writer.drain()
        finally:
            writer.close()


@pytest.fixture
async def pool(make_database: MakeDatabase) -> AsyncIterator[Pool]:
    dsn = await make_database()
    pool = await create_pool(dsn)
    yield pool
    await pool.close()


async def _wait(predicate: object, timeout_s: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await predicate():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_events_reach_a_receiver_that_was_down_once_per_webhook_id(pool: Pool) -> None:
    owner = await users.create(pool, "webhooks@example.com", None, "Webhooks")
    receiver = Receiver()  # not started: connection refused
    endpoint = await webhooks.create(
        pool,
        owner.id,
        f"http://127.0.0.1:{receiver.port}/hook",
        [str(EventType.LEAD_FINALIZED)],
        new_secret(),
    )
    clock = MovableClock()
    queued = []
    for i in range(EVENTS):
        queued += await announce(
            pool, owner.id, EventType.LEAD_FINALIZED, {"lead_id": f"lead_{i}"}, clock.now()
        )
    assert len(queued) == EVENTS

    async def rows() -> list[deliveries.Delivery]:
        return await deliveries.list_for_endpoint(pool, owner.id, endpoint.id, limit=1000)

    async def all_attempted(n: int) -> bool:
        return all(d.attempts >= n and d.status == "pending" for d in await rows())

    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_webhook_worker(
            Settings(webhook_allow_private=True), pool, stop, clock, poll_s=0.05, rng=random.Random(3)
        )
    )
    try:
        await _wait(lambda: all_attempted(1))  # receiver down: the first attempt failed for each
        assert receiver.received == []
        await receiver.start()
        receiver.status = 503  # up, but not yet healthy
        clock.advance(6)  # the 5 s retry (+10 % jitter) is due
        await _wait(lambda: all_attempted(2))
        assert len(receiver.received) == EVENTS and all(s == 503 for _, _, s in receiver.received)
        receiver.status = 200  # recovered
        clock.advance(6 * 60)  # the 5 min retry is due
        await _wait(lambda: _all_succeeded(rows))
        clock.advance(24 * 3600)  # nothing left to send, however long we wait
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(worker, 10)
        await receiver.stop()

    ok = [(wid, body) for wid, body, status in receiver.received if status == 200]
    per_id = collections.Counter(wid for wid, _ in ok)
    assert all(count == 1 for count in per_id.values()), per_id
    assert set(per_id) == {d.webhook_id for d in queued}, "an event was not delivered"
    assert sorted(body["data"]["lead_id"] for _, body in ok) == sorted(f"lead_{i}" for i in range(EVENTS))  # type: ignore[index]
    # Retries keep the webhook-id: a receiver that deduplicates by it sees each event once.
    tried = collections.Counter(wid for wid, _, _ in receiver.received)
    assert set(tried) == set(per_id) and all(count == 2 for count in tried.values()), tried


async def _all_succeeded(rows: object) -> bool:
    found = await rows()  # type: ignore[operator]
    return bool(found) and all(d.status == "succeeded" for d in found)
