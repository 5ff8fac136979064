"""The delivery worker: takes due outbox rows, POSTs them signed, and schedules what failed.

Every time comes from the injected clock (the worker only polls on a short real interval), so a test
moves the clock forward instead of sleeping. A delivery is claimed under a lease: when a worker dies
mid-attempt, the lease runs out and the next worker sends it again with the same ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from agents.metrics import WEBHOOK_DELIVERIES
from agents.webhooks.clock import Clock, SystemClock
from agents.webhooks.outbox import render_body
from agents.webhooks.schedule import DISABLE_AFTER, Outcome, classify, retry_after_s, retry_delay_s
from agents.webhooks.signing import signature_headers
from ayka.netguard import Resolver, UnsafeTarget, check_target
from ayka.settings import Settings
from persistence.db import Db, Pool
from persistence.repositories import deliveries, notifications, webhooks
from persistence.repositories.deliveries import Delivery
from persistence.repositories.webhooks import WebhookEndpoint

log = logging.getLogger(__name__)

ATTEMPT_TIMEOUT_S = 15.0
USER_AGENT = "AYKA-Webhooks/1"


def pinned(url: str, address: str) -> tuple[str, str, dict[str, Any]]:
    """The URL with its host replaced by the address the guard checked (no second DNS lookup that a
    rebinding attacker could answer differently), the Host header, and TLS's server name."""
    parts = urlsplit(url)
    hostname = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{parts.port}" if parts.port else "")
    extensions: dict[str, Any] = {"sni_hostname": hostname} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), parts.netloc, extensions


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None


@dataclass
class DeliveryWorker:
    settings: Settings
    pool: Pool
    client: httpx.AsyncClient
    clock: Clock
    rng: random.Random
    attempt_timeout_s: float = ATTEMPT_TIMEOUT_S
    resolver: Resolver | None = None
    batch: int = 20

    @property
    def lease_s(self) -> float:
        return self.attempt_timeout_s + 45.0

    async def deliver_due(self) -> int:
        """One pass: attempt every due delivery (up to ``batch``); returns how many were attempted."""
        due = await deliveries.claim_due(self.pool, self.clock.now(), self.batch, self.lease_s)
        await asyncio.gather(*(self._process(d) for d in due))
        return len(due)

    async def _process(self, delivery: Delivery) -> None:
        endpoint = await webhooks.get_for_worker(self.pool, delivery.endpoint_id)
        if endpoint is None:
            return  # deleted with its deliveries
        if not endpoint.enabled:
            await deliveries.mark_dead_for_endpoint(self.pool, endpoint.id, "endpoint disabled")
            return
        attempt = await self.attempt(endpoint, delivery)
        WEBHOOK_DELIVERIES.labels(
            result="success" if attempt.outcome is Outcome.SUCCEEDED else "failure"
        ).inc()
        await self._record(endpoint, delivery, attempt)

    async def attempt(self, endpoint: WebhookEndpoint, delivery: Delivery) -> Attempt:
        try:
            addresses = await check_target(
                endpoint.url, allow_private=self.settings.webhook_allow_private, resolver=self.resolver
            )
        except UnsafeTarget as exc:
            return Attempt(Outcome.RETRY, error=f"refused: {exc}")
        now = self.clock.now()
        body = render_body(self.settings, delivery)
        url, host, extensions = pinned(endpoint.url, addresses[0])
        headers = {
            "host": host,
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **signature_headers(endpoint.signing_secrets(now), delivery.webhook_id, now, body),
        }
        try:
            async with (
                asyncio.timeout(self.attempt_timeout_s),
                self.client.stream(
                    "POST", url, content=body.encode(), headers=headers, extensions=extensions
                ) as response,
            ):
                code = response.status_code
                location = response.headers.get("location", "")
                retry_after = response.headers.get("retry-after")
        except TimeoutError:
            return Attempt(Outcome.RETRY, error=f"no answer within {self.attempt_timeout_s:g} s")
        except httpx.HTTPError as exc:
            return Attempt(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}"[:500])
        outcome = classify(code)
        if outcome is Outcome.SUCCEEDED:
            return Attempt(outcome, status_code=code)
        error = f"HTTP {code}"
        if 300 <= code < 400:
            error += f" (redirect to {location!r} not followed)"
        wait_s = retry_after_s(retry_after, self.clock.now()) if code in (429, 503) else None
        return Attempt(outcome, status_code=code, error=error, retry_after_s=wait_s)

    async def _record(self, endpoint: WebhookEndpoint, delivery: Delivery, attempt: Attempt) -> None:
        now = self.clock.now()
        async with self.pool.acquire() as conn, conn.transaction():
            if attempt.outcome is Outcome.SUCCEEDED:
                assert attempt.status_code is not None
                await deliveries.mark_succeeded(conn, delivery.id, attempt.status_code, now)
                await webhooks.set_failing_since(conn, endpoint.id, None)
                return
            error = attempt.error or "failed"
            if attempt.outcome is Outcome.GONE:
                await deliveries.mark_failed(conn, delivery.id, status_code=410, error=error, retry_at=None)
                await _disable(conn, endpoint, "the receiver answered 410 Gone")
                return
            delay_s = retry_delay_s(delivery.attempts + 1, self.rng)
            if delay_s is not None and attempt.retry_after_s is not None:
                delay_s = max(delay_s, attempt.retry_after_s)
            retry_at = now + timedelta(seconds=delay_s) if delay_s is not None else None
            await deliveries.mark_failed(
                conn, delivery.id, status_code=attempt.status_code, error=error, retry_at=retry_at
            )
            await webhooks.set_failing_since(conn, endpoint.id, now)
            failing_since = endpoint.failing_since or now
            if now - failing_since >= DISABLE_AFTER:
                await _disable(conn, endpoint, f"every attempt failed for {DISABLE_AFTER.days} days")


async def _disable(db: Db, endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop delivering to the endpoint and tell its owner (a notification)."""
    if await webhooks.disable(db, endpoint.id, reason):
        await deliveries.mark_dead_for_endpoint(db, endpoint.id, f"endpoint disabled: {reason}")
        await notifications.create(
            db,
            endpoint.owner_id,
            kind="webhook.disabled",
            title="Webhook endpoint disabled",
            body=f"{endpoint.url}: {reason}. Fix the receiver, re-enable the endpoint and replay.",
            data={"endpoint_id": endpoint.id, "url": endpoint.url, "reason": reason},
        )
        log.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)


async def run_webhook_worker(
    settings: Settings,
    pool: Pool,
    stop_event: asyncio.Event,
    clock: Clock | None = None,
    *,
    poll_s: float = 1.0,
    attempt_timeout_s: float = ATTEMPT_TIMEOUT_S,
    resolver: Resolver | None = None,
    rng: random.Random | None = None,
) -> None:
    """Deliver until ``stop_event`` is set. Redirects are never followed; no proxy from the environment.
    ``resolver`` replaces DNS (tests); ``rng`` drives the jitter."""
    # No connection reuse: connections are made to pinned addresses, one receiver's TLS session must
    # never carry another's request.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False, limits=limits) as client:
        worker = DeliveryWorker(
            settings=settings,
            pool=pool,
            client=client,
            clock=clock or SystemClock(),
            rng=rng or random.Random(),
            attempt_timeout_s=attempt_timeout_s,
            resolver=resolver,
        )
        while not stop_event.is_set():
            try:
                attempted = await worker.deliver_due()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                # the database is away: try again on the next poll
                log.warning("webhook worker pass failed: %s", exc)
                attempted = 0
            if attempted == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop_event.wait(), poll_s)
