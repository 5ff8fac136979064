"""Push on ``lead.finalized``: a session through the pipeline, with a real local HTTP server standing in
for Expo's push service (it answers Expo's tickets)."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from nats.aio.client import Client as NATS
from prometheus_client import REGISTRY

from agents.pipeline import Outcome, process_session
from agents.push import ExpoPush
from ayka.settings import Settings
from persistence.db import Pool
from persistence.repositories import leads, notifications, push_tokens, users
from persistence.repositories.users import User
from tests.agents.seed import seed_session

PHONE_A = "ExponentPushToken[aaaaaaaaaaaaaaaaaaaaaa]"
PHONE_B = "ExponentPushToken[bbbbbbbbbbbbbbbbbbbbbb]"


class FakeExpo:
    """Expo's ``POST /--/api/v2/push/send``: records each request's JSON and answers one ticket per
    message, ``DeviceNotRegistered`` for tokens in ``unregistered``; ``status``/``hang_s`` break it."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], Any]] = []
        self.unregistered: set[str] = set()
        self.status = 200
        self.hang_s = 0.0
        expo = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                messages = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                expo.requests.append(({k.lower(): v for k, v in self.headers.items()}, messages))
                if expo.hang_s:
                    time.sleep(expo.hang_s)
                tickets = [expo.ticket(m["to"]) for m in messages]
                body = json.dumps({"data": tickets} if expo.status == 200 else {"errors": []}).encode()
                try:
                    self.send_response(expo.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (the no-answer case)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def ticket(self, token: str) -> dict[str, Any]:
        if token in self.unregistered:
            return {
                "status": "error",
                "message": f'"{token}" is not a registered push notification recipient',
                "details": {"error": "DeviceNotRegistered", "expoPushToken": token},
            }
        return {"status": "ok", "id": str(uuid.uuid4())}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/--/api/v2/push/send"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def expo() -> Iterator[FakeExpo]:
    server = FakeExpo()
    yield server
    server.close()


def pushed(result: str) -> float:
    return REGISTRY.get_sample_value("ayka_push_notifications_total", {"result": result}) or 0.0


async def phones(pool: Pool, owner: User, *tokens: str) -> None:
    for token in tokens:
        await push_tokens.add(pool, owner.id, token, "ios")


async def tokens_of(pool: Pool, owner: User) -> list[str]:
    return [t.token for t in await push_tokens.list_for_owner(pool, owner.id)]


async def test_a_finalized_lead_is_pushed_to_every_phone_of_its_owner(
    agents_pool: Pool, owner: User, nc: NATS, expo: FakeExpo
) -> None:
    await phones(agents_pool, owner, PHONE_A, PHONE_B)
    stranger = await users.create(agents_pool, f"{uuid.uuid4().hex[:10]}@example.com", None, "Stranger")
    await push_tokens.add(agents_pool, stranger.id, "ExponentPushToken[not-this-owner]", "android")
    session = await seed_session(agents_pool, owner.id, "saas_demo")
    before = pushed("sent")

    settings = Settings(expo_push_url=expo.url)
    assert await process_session(settings, agents_pool, nc.jetstream(), session.id) is Outcome.DONE

    (lead,) = await leads.list_for_owner(agents_pool, owner.id, session_id=session.id)
    (note,) = await notifications.list_for_owner(agents_pool, owner.id)
    ((headers, messages),) = expo.requests
    assert headers["content-type"] == "application/json" and headers["accept"] == "application/json"
    data = {"event": "lead.finalized", "lead_id": lead.id, "session_id": session.id}
    assert messages == [
        {"to": token, "title": note.title, "body": note.body, "data": data, "sound": "default"}
        for token in (PHONE_A, PHONE_B)
    ]
    assert note.title == "New lead: Dana Whitfield"
    assert pushed("sent") == before + 2
    # The trigger delivered again (the session is done): the phones are not pushed twice.
    assert await process_session(settings, agents_pool, nc.jetstream(), session.id) is Outcome.ALREADY_DONE
    assert len(expo.requests) == 1


async def test_unconfigured_push_sends_nothing_and_records_what_it_would_have_sent(
    agents_pool: Pool, owner: User, nc: NATS, expo: FakeExpo, caplog: pytest.LogCaptureFixture
) -> None:
    await phones(agents_pool, owner, PHONE_A, PHONE_B)
    session = await seed_session(agents_pool, owner.id, "saas_demo")
    before = pushed("not_configured")

    with caplog.at_level(logging.INFO, logger="ayka.agents.push"):
        assert await process_session(Settings(), agents_pool, nc.jetstream(), session.id) is Outcome.DONE

    (lead,) = await leads.list_for_owner(agents_pool, owner.id, session_id=session.id)
    (record,) = [r for r in caplog.records if "would have sent" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert (
        record.getMessage()
        == f"push not configured: would have sent lead.finalized for lead {lead.id} to 2 device(s)"
    )
    assert record.__dict__["devices"] == 2 and record.__dict__["lead_id"] == lead.id
    assert pushed("not_configured") == before + 2
    assert expo.requests == []
    assert await tokens_of(agents_pool, owner) == [PHONE_A, PHONE_B]


async def test_a_device_that_is_not_registered_loses_its_token(
    agents_pool: Pool, owner: User, nc: NATS, expo: FakeExpo
) -> None:
    await phones(agents_pool, owner, PHONE_A, PHONE_B)
    expo.unregistered.add(PHONE_B)  # the app was uninstalled from phone B
    session = await seed_session(agents_pool, owner.id, "saas_demo")
    before = pushed("device_not_registered")

    settings = Settings(expo_push_url=expo.url)
    assert await process_session(settings, agents_pool, nc.jetstream(), session.id) is Outcome.DONE

    assert [m["to"] for m in expo.requests[0][1]] == [PHONE_A, PHONE_B]
    assert await tokens_of(agents_pool, owner) == [PHONE_A]
    assert pushed("device_not_registered") == before + 1


@pytest.mark.parametrize("failure", ["http_500", "no_answer", "connection_refused"])
async def test_a_failing_push_service_never_fails_the_run(
    agents_pool: Pool, owner: User, nc: NATS, expo: FakeExpo, failure: str
) -> None:
    await phones(agents_pool, owner, PHONE_A)
    session = await seed_session(agents_pool, owner.id, "saas_demo")
    url = expo.url
    if failure == "http_500":
        expo.status = 500
    elif failure == "no_answer":
        expo.hang_s = 1.0
    else:
        expo.close()
    before = pushed("failed")

    push = ExpoPush(url=url, timeout_s=0.3)
    outcome = await process_session(Settings(), agents_pool, nc.jetstream(), session.id, push=push)

    assert outcome is Outcome.DONE
    assert len(await leads.list_for_owner(agents_pool, owner.id, session_id=session.id)) == 1
    assert await tokens_of(agents_pool, owner) == [PHONE_A]  # kept: only DeviceNotRegistered removes
    assert pushed("failed") == before + 1
