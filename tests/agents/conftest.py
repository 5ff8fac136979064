"""Fixtures for the agents and webhooks tests: a database of their own, an owner, a clock, a receiver."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from persistence.db import Pool, create_pool
from persistence.repositories import users
from persistence.repositories.users import User
from tests.fixtures.postgres import MakeDatabase


@pytest.fixture(scope="session")
async def agents_pool(make_database: MakeDatabase) -> AsyncIterator[Pool]:
    """A database of its own: the delivery worker claims every due row, so no other test's rows."""
    pool = await create_pool(await make_database(), min_size=1, max_size=8)
    yield pool
    await pool.close()


@pytest.fixture
async def owner(agents_pool: Pool) -> User:
    return await users.create(agents_pool, f"{uuid.uuid4().hex[:10]}@example.com", "not-a-real-hash", "Owner")


class FakeClock:
    """Starts near the real time (receivers check timestamps) and only moves when told. It starts a
    second ahead so that rows the database stamps with its own ``now()`` are already due."""

    def __init__(self) -> None:
        self.current = datetime.now(UTC) + timedelta(seconds=1)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A customer's webhook receiver: a real HTTP server answering from a script (default 200)."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                reply = receiver.replies.pop(0) if receiver.replies else Reply()
                if reply.hang_s:
                    time.sleep(reply.hang_s)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ayka"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()
