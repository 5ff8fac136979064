"""A customer's webhook receiver that is down for a while (connection refused, then 503s) gets every
event later, exactly once per ``webhook-id``, from the delivery worker running as a real process
(``ayka worker webhooks``) over a real PostgreSQL and NATS. The worker is killed (SIGKILL) and stopped
(SIGTERM) between the outage's phases and started again: nothing it had queued is lost. The retry
schedule spans hours, so the test stands in for the clock by making the pending retries due in the
outbox (the schedule itself is tested in tests/agents/webhooks); the receiver is a real local HTTP
server."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from nats.aio.client import Client as NATS

from agents.webhooks import EventType, announce, new_secret
from ayka.runtime.process import free_port, stop_process
from persistence.db import Pool, create_pool
from persistence.repositories import deliveries, users, webhooks
from tests.fixtures.postgres import MakeDatabase

EVENTS = 12
AYKA = Path(sys.executable).with_name("ayka")


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


@dataclass
class Worker:
    """``ayka worker webhooks`` as its own process, configured only through ``AYKA_*`` variables."""

    env: dict[str, str]
    log_path: Path
    metrics_port: int
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(AYKA), "worker", "webhooks"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def signal(self, sig: int) -> int:
        """Send ``sig`` and wait for the process to end; its exit status."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    async def metric(self, name: str, labels: str) -> float:
        async with httpx.AsyncClient(trust_env=False) as client:
            text = (await client.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5)).text
        for line in text.splitlines():
            if line.startswith(f"{name}{{{labels}}} "):
                return float(line.split()[-1])
        return 0.0


@pytest.fixture
async def pool(make_database: MakeDatabase) -> AsyncIterator[tuple[Pool, str]]:
    dsn = await make_database()
    pool = await create_pool(dsn)
    yield pool, dsn
    await pool.close()


@pytest.fixture
def worker(pool: tuple[Pool, str], nats_url: str, nc: NATS, tmp_path: Path) -> Iterator[Worker]:
    metrics_port = free_port()
    env = dict(
        os.environ,
        AYKA_NATS_URL=nats_url,
        AYKA_DATABASE_URL=pool[1],
        AYKA_DATA_DIR=str(tmp_path / "data"),
        AYKA_WEBHOOK_ALLOW_PRIVATE="true",  # the receiver is on loopback
        AYKA_METRICS_PORT=str(metrics_port),
        AYKA_LOG_LEVEL="INFO",
    )
    found = Worker(env, tmp_path / "worker.log", metrics_port)
    yield found
    if found.proc is not None:
        stop_process(found.proc, 15)


async def _wait(predicate: Callable[[], Awaitable[bool]], worker: Worker, timeout_s: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await predicate():
        assert worker.alive(), f"the worker exited:\n{worker.log_tail()}"
        assert asyncio.get_running_loop().time() < deadline, f"timed out; worker log:\n{worker.log_tail()}"
        await asyncio.sleep(0.1)


async def _retries_due(pool: Pool) -> None:
    """Stand in for the clock: every pending retry is due now."""
    await pool.execute("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending'")


async def test_events_reach_a_receiver_that_was_down_once_per_webhook_id(
    pool: tuple[Pool, str], worker: Worker
) -> None:
    db = pool[0]
    owner = await users.create(db, "webhooks@example.com", None, "Webhooks")
    receiver = Receiver()  # not started: connection refused
    endpoint = await webhooks.create(
        db, owner.id, f"http://127.0.0.1:{receiver.port}/hook", [str(EventType.LEAD_FINALIZED)], new_secret()
    )
    queued = []
    for i in range(EVENTS):
        queued += await announce(
            db, owner.id, EventType.LEAD_FINALIZED, {"lead_id": f"lead_{i}"}, datetime.now(UTC)
        )
    assert len(queued) == EVENTS

    async def rows() -> list[deliveries.Delivery]:
        return await deliveries.list_for_endpoint(db, owner.id, endpoint.id, limit=1000)

    async def all_failed_once() -> bool:
        return all(d.attempts >= 1 and d.status == "pending" for d in await rows())

    async def all_got_503() -> bool:
        found = await rows()
        return len(receiver.received) == EVENTS and all(
            d.status == "pending" and d.last_status_code == 503 for d in found
        )

    async def all_succeeded() -> bool:
        found = await rows()
        return bool(found) and all(d.status == "succeeded" for d in found)

    try:
        worker.start()
        await _wait(all_failed_once, worker)  # receiver down: the first attempt failed for each
        assert receiver.received == []
        assert worker.signal(signal.SIGKILL) == -signal.SIGKILL  # the worker dies during the outage

        await receiver.start()
        receiver.status = 503  # up, but not yet healthy
        await _retries_due(db)
        worker.start()  # a fresh process picks the outbox up where the dead one left it
        await _wait(all_got_503, worker)
        assert all(s == 503 for _, _, s in receiver.received)
        assert worker.signal(signal.SIGTERM) == 0  # a graceful stop, mid-outage

        receiver.status = 200  # recovered
        await _retries_due(db)
        worker.start()
        await _wait(all_succeeded, worker)
        await _retries_due(db)  # nothing is left to send, however long we wait
        await asyncio.sleep(1.5)
        assert await worker.metric("ayka_webhook_deliveries_total", 'result="success"') == EVENTS
    finally:
        await receiver.stop()

    ok = [(wid, body) for wid, body, status in receiver.received if status == 200]
    per_id = collections.Counter(wid for wid, _ in ok)
    assert all(count == 1 for count in per_id.values()), per_id
    assert set(per_id) == {d.webhook_id for d in queued}, "an event was not delivered"
    assert sorted(body["data"]["lead_id"] for _, body in ok) == sorted(f"lead_{i}" for i in range(EVENTS))  # type: ignore[index]
    # Retries keep the webhook-id: a receiver that deduplicates by it sees each event once.
    tried = collections.Counter(wid for wid, _, _ in receiver.received)
    assert set(tried) == set(per_id) and all(count == 2 for count in tried.values()), tried
