"""The delivery worker against a real local receiver and a real PostgreSQL; time is injected."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from standardwebhooks import Webhook

from agents.webhooks import (
    DeliveryWorker,
    EventType,
    announce,
    new_secret,
    replay_delivery,
    replay_failed_since,
    run_webhook_worker,
)
from agents.webhooks.delivery import pinned
from agents.webhooks.schedule import RETRY_DELAYS_S
from ayka.settings import Settings
from persistence.db import Pool
from persistence.repositories import deliveries, notifications, webhooks
from persistence.repositories.deliveries import Delivery
from persistence.repositories.users import User
from persistence.repositories.webhooks import WebhookEndpoint
from tests.agents.conftest import FakeClock, Receiver, Reply

ALLOW_PRIVATE = Settings(webhook_allow_private=True)


@pytest.fixture(autouse=True)
async def empty_outbox(agents_pool: Pool) -> None:
    await agents_pool.execute("DELETE FROM webhook_deliveries")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as c:
        yield c


def worker(
    pool: Pool, client: httpx.AsyncClient, clock: FakeClock, settings: Settings = ALLOW_PRIVATE, **kw: Any
) -> DeliveryWorker:
    return DeliveryWorker(
        settings=settings, pool=pool, client=client, clock=clock, rng=random.Random(1), **kw
    )


async def endpoint(pool: Pool, owner: User, url: str, *types: EventType) -> WebhookEndpoint:
    kinds = [str(t) for t in types] or [str(EventType.LEAD_FINALIZED)]
    return await webhooks.create(pool, owner.id, url, kinds, new_secret())


async def one(pool: Pool, owner: User, clock: FakeClock, data: dict[str, object] | None = None) -> Delivery:
    (queued,) = await announce(
        pool, owner.id, EventType.LEAD_FINALIZED, data or {"lead_id": "lead_1"}, clock.now()
    )
    return queued


async def state(pool: Pool, owner: User, delivery_id: str) -> Delivery:
    found = await deliveries.get(pool, owner.id, delivery_id)
    assert found is not None
    return found


def attempts_counted(result: str) -> float:
    return REGISTRY.get_sample_value("ayka_webhook_deliveries_total", {"result": result}) or 0.0


def signed_with(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Check a signature without the library's 5-minute clock-skew window (the test clock runs ahead)."""
    stamp = datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=UTC)
    expected = Webhook(secret).sign(headers["webhook-id"], stamp, body.decode())
    return expected in headers["webhook-signature"].split(" ")


async def test_a_delivery_is_signed_and_verifies_with_both_secrets_during_rotation(
    agents_pool: Pool, owner: User, clock: FakeClock, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    ep = await endpoint(agents_pool, owner, receiver.url)
    old_secret = ep.secret
    rotated = await webhooks.rotate_secret(
        agents_pool, owner.id, ep.id, new_secret(), clock.now() + timedelta(hours=24)
    )
    assert rotated is not None
    queued = await one(agents_pool, owner, clock, {"lead_id": "lead_1", "person": "Dana"})
    assert await worker(agents_pool, client, clock).deliver_due() == 1
    (got,) = receiver.received
    assert got.path == "/hooks/ayka" and got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"] == queued.webhook_id
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, rotated.secret):  # the receiver may hold either during rotation
        payload = Webhook(secret).verify(got.body, got.headers)
        assert payload["type"] == "lead.finalized" and payload["data"]["person"] == "Dana"
    done = await state(agents_pool, owner, queued.id)
    assert done.status == "succeeded" and done.attempts == 1 and done.last_status_code == 200


async def test_retries_follow_the_schedule_and_keep_the_webhook_id(
    agents_pool: Pool, owner: User, clock: FakeClock, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    ep = await endpoint(agents_pool, owner, receiver.url)
    receiver.replies = [Reply(500), Reply(502), Reply(500)]
    queued = await one(agents_pool, owner, clock)
    w = worker(agents_pool, client, clock)
    success, failure = attempts_counted("success"), attempts_counted("failure")
    for attempt, delay_s in enumerate(RETRY_DELAYS_S[:3], start=1):
        tried_at = clock.now()
        assert await w.deliver_due() == 1
        row = await state(agents_pool, owner, queued.id)
        assert row.status == "pending" and row.attempts == attempt
        wait_s = (row.next_attempt_at - tried_at).total_seconds()
        assert 0.9 * delay_s <= wait_s <= 1.1 * delay_s
        clock.advance(0.85 * delay_s)
        assert await w.deliver_due() == 0  # not due yet: nothing is sent early
        clock.advance(0.3 * delay_s)
    assert await w.deliver_due() == 1
    done = await state(agents_pool, owner, queued.id)
    assert done.status == "succeeded" and done.attempts == 4
    assert len(receiver.received) == 4
    # ayka_webhook_deliveries_total counts attempts (what the AykaWebhookFailuresHigh alert reads).
    assert (attempts_counted("success") - success, attempts_counted("failure") - failure) == (1.0, 3.0)
    assert {r.headers["webhook-id"] for r in receiver.received} == {queued.webhook_id}
    assert all(signed_with(ep.secret, r.headers, r.body) for r in receiver.received)
    refreshed = await webhooks.get(agents_pool, owner.id, ep.id)
    assert refreshed is not None and refreshed.failing_since is None  # the success cleared it


async def test_after_eight_failed_attempts_the_delivery_fails(
    agents_pool: Pool, owner: User, clock: FakeClock, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    ep = await endpoint(agents_pool, owner, receiver.url)
    receiver.replies = [Reply(500)] * 8
    queued = await one(agents_pool, owner, clock)
    w = worker(agents_pool, client, clock)
    for delay_s in (*RETRY_DELAYS_S, 0):
        assert await w.deliver_due() == 1
        clock.advance(delay_s * 1.1 + 1)
    assert await w.deliver_due() == 0
    row = await state(agents_pool, owner, queued.id)
    assert row.status == "failed" and row.attempts == 8 and row.last_error == "HTTP 500"
    refreshed = await webhooks.get(agents_pool, owner.id, ep.id)
    assert refreshed is not None and refreshed.enabled and refreshed.failing_since is not None


async def test_410_disables_the_endpoint_and_notifies_the_owner(
    agents_pool: Pool, owner: User, clock: FakeClock, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    ep = await endpoint(agents_pool, owner, receiver.url)
    receiver.replies = [Reply(410)]
    first = await one(agents_pool, owner, clock)
    assert await worker(agents_pool, client, clock, batch=1).deliver_due() == 1
    refreshed = await webhooks.get(agents_pool, owner.id, ep.id)
    assert refreshed is not None and not refreshed.enabled and "410" in (refreshed.disabled_reason or "")
    assert (await state(agents_pool, owner, first.id)).status == "failed"
    (note,) = await notifications.list_for_owner(agents_pool, owner.id)
    assert note.kind == "webhook.disabled" and note.data["endpoint_id"] == ep.id
    # A disabled endpoint gets nothing new.
    assert await announce(agents_pool, owner.id, EventType.LEAD_FINALIZED, {}, clock.now()) == []


async def test_an_endpoint_failing_for_five_days_is_disabled(
    agents_pool: Pool, owner: User, clock: FakeClock, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    ep = await endpoint(agents_pool, owner, receiver.url)
    await webhooks.set_failing_since(agents_pool, ep.id, clock.now() - timedelta(days=5, seconds=1))
    receiver.replies = [Reply(500)]
    queued = await one(agents_pool, owner, clock)
    assert await worker(agents_pool, client, clock).deliver_due() == 1
    refreshed = await webhooks.get(agents_pool, owner.id, ep.id)
    assert refreshed is not None and not refreshed.enabled
    assert "5 days" in (refreshed.disabled_reason or "")
    assert (await state(agents_pool, owner, queued.id)).status == "dead"
    (note,) = await notifications.list_for_owner(agents_pool, owner.id)
    assert "5 days" in note.body


async def test_a_redirect_is_a_failure_and_is_not_followed(
    agents_pool: Pool, owner: User, clock: FakeClock, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    await endpoint(agents_pool, owner, receiver.url)
    elsewhere = receiver.url.replace("/hooks/ayka", "/elsewhere")
    receiver.replies = [Reply(307, {"Location": elsewhere})]
    queued = await one(agents_pool, owner, clock)
    await worker(agents_pool, client, clock).deliver_due()
    assert [r.path for r in receiver.received] == ["/hooks/ayka"]
    row = await state(agents_pool, owner, queued.id)
    assert (
        row.status == "pending" and row.last_status_code == 307 and "not followed" in (row.last_error or "")
    )


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured(
    agents_pool: Pool,
    owner: User,
    clock: FakeClock,
    receiver: Receiver,
    client: httpx.AsyncClient,
    status: int,
) -> None:
    await endpoint(agents_pool, owner, receiver.url)
    receiver.replies = [Reply(status, {"Retry-After": "3600"})]
    queued = await one(agents_pool, owner, clock)
    tried_at = clock.now()
    await worker(agents_pool, client, clock).deliver_due()
    row = await state(agents_pool, owner, queued.id)
    assert row.next_attempt_at - tried_at == timedelta(seconds=3600)  # not the 5 s of the schedule


async def test_a_hanging_receiver_times_out(
    agents_pool: Pool, owner: User, clock: FakeClock, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    await endpoint(agents_pool, owner, receiver.url)
    receiver.replies = [Reply(200, hang_s=1.5)]
    queued = await one(agents_pool, owner, clock)
    await worker(agents_pool, client, clock, attempt_timeout_s=0.3).deliver_due()
    row = await state(agents_pool, owner, queued.id)
    assert row.status == "pending" and row.last_error == "no answer within 0.3 s"


async def test_a_receiver_answering_garbage_is_a_failure(
    agents_pool: Pool, owner: User, clock: FakeClock, client: httpx.AsyncClient
) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(b"this is not HTTP at all\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await endpoint(agents_pool, owner, f"http://127.0.0.1:{port}/hook")
        queued = await one(agents_pool, owner, clock)
        await worker(agents_pool, client, clock).deliver_due()
    finally:
        server.close()
    row = await state(agents_pool, owner, queued.id)
    assert row.status == "pending" and row.attempts == 1 and row.last_status_code is None
    assert row.last_error and "Error" in row.last_error


async def test_private_targets_are_refused_at_delivery_time(
    agents_pool: Pool, owner: User, clock: FakeClock, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    await endpoint(agents_pool, owner, receiver.url)
    queued = await one(agents_pool, owner, clock)
    await worker(agents_pool, client, clock, settings=Settings(webhook_allow_private=False)).deliver_due()
    assert receiver.received == []
    row = await state(agents_pool, owner, queued.id)
    assert row.status == "pending" and "loopback" in (row.last_error or "")


async def test_large_payloads_are_sent_as_a_signed_link(
    agents_pool: Pool, owner: User, clock: FakeClock, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    ep = await endpoint(agents_pool, owner, receiver.url)
    queued = await one(agents_pool, owner, clock, {"lead_id": "lead_9", "evidence": ["y" * 1000] * 30})
    await worker(agents_pool, client, clock).deliver_due()
    (got,) = receiver.received
    assert len(got.body) < 20 * 1024
    data = Webhook(ep.secret).verify(got.body, got.headers)["data"]
    assert data["truncated"] is True and data["lead_id"] == "lead_9"
    assert data["fetch_url"].endswith(f"/v1/webhooks/{ep.id}/deliveries/{queued.id}/payload")


async def test_replay_one_delivery_and_all_failed_since(
    agents_pool: Pool, owner: User, clock: FakeClock, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    ep = await endpoint(agents_pool, owner, receiver.url)
    w = worker(agents_pool, client, clock)
    queued = [await one(agents_pool, owner, clock, {"n": n}) for n in range(3)]
    await agents_pool.execute(
        "UPDATE webhook_deliveries SET status = 'failed', attempts = 8 WHERE endpoint_id = $1", ep.id
    )
    assert await w.deliver_due() == 0
    assert await replay_delivery(agents_pool, owner.id, ep.id, queued[0].id, clock)
    assert await w.deliver_due() == 1
    assert receiver.received[0].headers["webhook-id"] == queued[0].webhook_id
    assert (await state(agents_pool, owner, queued[0].id)).status == "succeeded"
    since = clock.now() - timedelta(hours=1)
    assert await replay_failed_since(agents_pool, owner.id, ep.id, since, clock) == 2
    assert await w.deliver_due() == 2
    assert {r.headers["webhook-id"] for r in receiver.received[1:]} == {q.webhook_id for q in queued[1:]}
    # Someone else's delivery cannot be replayed.
    assert not await replay_delivery(agents_pool, "usr_other", ep.id, queued[0].id, clock)


async def test_restarting_the_worker_mid_schedule_loses_nothing(
    agents_pool: Pool, owner: User, clock: FakeClock, receiver: Receiver
) -> None:
    await endpoint(agents_pool, owner, receiver.url)
    # 1st attempt: 500. 2nd: the worker dies while the receiver is still answering. 3rd: 200.
    receiver.replies = [Reply(500), Reply(200, hang_s=1.0), Reply(200)]
    queued = await one(agents_pool, owner, clock)

    async def wait_for(condition: object, timeout_s: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not condition():  # type: ignore[operator]
            assert asyncio.get_running_loop().time() < deadline, "timed out"
            await asyncio.sleep(0.01)

    def start() -> tuple[asyncio.Event, asyncio.Task[None]]:
        stop = asyncio.Event()
        task = asyncio.create_task(run_webhook_worker(ALLOW_PRIVATE, agents_pool, stop, clock, poll_s=0.02))
        return stop, task

    stop, task = start()
    await wait_for(lambda: len(receiver.received) == 1)
    await asyncio.sleep(0.1)  # let it record the failure
    stop.set()
    await task  # a clean stop between attempts
    assert (await state(agents_pool, owner, queued.id)).attempts == 1

    stop, task = start()
    clock.advance(6)
    await wait_for(lambda: len(receiver.received) == 2)
    task.cancel()  # the worker dies mid-attempt: nothing is recorded, the claim is leased
    with pytest.raises(asyncio.CancelledError):
        await task
    row = await state(agents_pool, owner, queued.id)
    assert row.status == "delivering" and row.attempts == 1

    stop, task = start()
    await asyncio.sleep(0.1)
    assert len(receiver.received) == 2  # the lease still holds
    clock.advance(61)  # past the lease (attempt timeout + 45 s)
    await wait_for(lambda: len(receiver.received) == 3)
    for _ in range(100):
        if (await state(agents_pool, owner, queued.id)).status == "succeeded":
            break
        await asyncio.sleep(0.02)
    stop.set()
    await task
    row = await state(agents_pool, owner, queued.id)
    assert row.status == "succeeded" and row.attempts == 2
    assert {r.headers["webhook-id"] for r in receiver.received} == {queued.webhook_id}


def test_secret_rotation_signature_count_matches_valid_secrets() -> None:
    """The previous secret stops signing once it expires."""
    now = datetime.now(UTC)
    ep = WebhookEndpoint(
        id="wh_1", owner_id="u", url="https://x", description="", event_types=[], secret=new_secret(),
        previous_secret=new_secret(), previous_secret_expires_at=now - timedelta(seconds=1), enabled=True,
        disabled_reason=None, failing_since=None, created_at=now, updated_at=now,
    )  # fmt: skip
    assert ep.signing_secrets(now) == [ep.secret]
    assert base64.b64decode(ep.secret.removeprefix("whsec_"))


async def test_the_checked_address_is_the_one_connected_to(
    agents_pool: Pool, owner: User, clock: FakeClock, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    """No second DNS lookup (rebinding): the name below exists only in the guard's resolver."""
    port = receiver.server.server_address[1]
    await endpoint(agents_pool, owner, f"http://hooks.customer.test:{port}/in")
    seen: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        seen.append(host)
        return ["127.0.0.1"]

    queued = await one(agents_pool, owner, clock)
    await worker(agents_pool, client, clock, resolver=resolver).deliver_due()
    (got,) = receiver.received
    assert seen == ["hooks.customer.test"]
    assert got.path == "/in" and got.headers["host"] == f"hooks.customer.test:{port}"
    assert (await state(agents_pool, owner, queued.id)).status == "succeeded"


def test_pinned_urls_keep_tls_server_name() -> None:
    url, host, extensions = pinned("https://hooks.example.com/a?b=1", "93.184.216.34")
    assert url == "https://93.184.216.34/a?b=1" and host == "hooks.example.com"
    assert extensions == {"sni_hostname": "hooks.example.com"}
    url, host, extensions = pinned("http://h.example:8080/x", "2606:2800:220:1::1")
    assert url == "http://[2606:2800:220:1::1]:8080/x" and host == "h.example:8080" and extensions == {}
