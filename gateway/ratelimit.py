"""Limits shared by every gateway instance through the NATS KV bucket ``rate-limits``:
requests per minute per API key / user / client address, and concurrent live streams per account.

Counters are fixed one-minute windows updated with compare-and-set (``update(last=revision)``), so two
gateways never lose each other's increments. When NATS is unreachable the request limiter fails open
(a rate limiter must not take the API down); the stream limiter fails closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from ayka.bus import KV_RATE_LIMITS
from ayka.connect import cancel_and_wait
from gateway.errors import ApiError, RateLimited, Unavailable
from gateway.observability import ACTIVE_STREAMS, RATE_LIMITED

if TYPE_CHECKING:
    from gateway.state import GatewayState

log = logging.getLogger("ayka.gateway.ratelimit")

WINDOW_S = 60
STREAM_SLOT_TTL_S = 60.0  # a slot not renewed for this long (its gateway died) is free again
_CAS_ATTEMPTS = 200


class TooManyStreams(ApiError):
    """The account already has ``max_streams_per_owner`` live streams (WebSocket close 1013, the code
    Deepgram uses for a concurrency limit)."""

    status = 429
    code = "too_many_streams"
    message = "This account already has the maximum number of concurrent streams."


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    limit: int
    remaining: int
    reset_s: int  # seconds until the window ends
    allowed: bool

    def headers(self, policy: str = "minute") -> dict[str, str]:
        """IETF draft RateLimit headers (structured fields), plus Retry-After when refused."""
        headers = {
            "RateLimit-Policy": f'"{policy}";q={self.limit};w={WINDOW_S}',
            "RateLimit": f'"{policy}";r={self.remaining};t={self.reset_s}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_s))
        return headers


def identity_key(kind: str, ident: str) -> str:
    """KV keys allow only [-/_=.A-Za-z0-9]: client addresses (``::1``) are hashed."""
    safe = (
        ident
        if ident.replace("-", "").replace("_", "").isalnum()
        else hashlib.sha256(ident.encode()).hexdigest()
    )
    return f"{kind}.{safe[:64]}"


async def _bucket(js: JetStreamContext) -> KeyValue:
    return await js.key_value(KV_RATE_LIMITS)


async def hit(js: JetStreamContext, key: str, limit: int, *, now_s: float | None = None) -> RateLimitDecision:
    """Count one request for ``key`` in the current window and decide."""
    now = now_s if now_s is not None else time.time()
    window = int(now // WINDOW_S)
    reset_s = int((window + 1) * WINDOW_S - now) or 1
    full_key = f"rl.{key}.{window}"
    try:
        kv = await _bucket(js)
        for _ in range(_CAS_ATTEMPTS):
            try:
                entry = await kv.get(full_key)
            except KeyNotFoundError:
                try:
                    await kv.create(full_key, b"1")
                    return RateLimitDecision(limit, limit - 1, reset_s, True)
                except KeyWrongLastSequenceError:
                    continue
            count = int(entry.value or b"0")
            if count >= limit:
                return RateLimitDecision(limit, 0, reset_s, False)
            try:
                await kv.update(full_key, str(count + 1).encode(), last=entry.revision)
            except KeyWrongLastSequenceError:
                continue
            return RateLimitDecision(limit, limit - count - 1, reset_s, True)
    except (TimeoutError, OSError, ConnectionError) as exc:
        log.warning("rate limiter unavailable, allowing request: %s", exc)
        return RateLimitDecision(limit, limit, reset_s, True)
    except Exception as exc:  # a NATS error of any other kind: fail open as well
        log.warning("rate limiter error, allowing request: %r", exc)
        return RateLimitDecision(limit, limit, reset_s, True)
    return RateLimitDecision(limit, limit, reset_s, True)  # heavy contention: let it through


def raise_if_limited(decision: RateLimitDecision, kind: str) -> None:
    if not decision.allowed:
        RATE_LIMITED.labels(kind).inc()
        raise RateLimited(headers=decision.headers())


# ---------------------------------------------------------------- concurrent streams


async def _change_slots(
    kv: KeyValue, key: str, change: str, slot_id: str, max_slots: int, ttl_s: float
) -> None:
    """Compare-and-set on the account's slot map {slot_id: expires_at_s}: add, renew or remove."""
    for attempt in range(_CAS_ATTEMPTS):
        now = time.time()
        revision = 0
        slots: dict[str, float] = {}
        try:
            entry = await kv.get(key)
            revision = entry.revision or 0
            slots = json.loads(entry.value or b"{}")
        except KeyNotFoundError:
            revision = 0
        slots = {sid: exp for sid, exp in slots.items() if exp > now}
        if change == "add":
            if slot_id not in slots and len(slots) >= max_slots:
                raise TooManyStreams(
                    f"This account already has {max_slots} concurrent streams; close one first."
                )
            slots[slot_id] = now + ttl_s
        elif change == "renew":
            slots[slot_id] = now + ttl_s
        else:
            slots.pop(slot_id, None)
        payload = json.dumps(slots).encode()
        try:
            if revision:
                await kv.update(key, payload, last=revision)
            else:
                await kv.create(key, payload)
            return
        except KeyWrongLastSequenceError:
            # Many streams of one account opening at once contend for this key: back off with jitter.
            await asyncio.sleep(random.uniform(0.001, 0.004) * min(attempt + 1, 10))
    raise Unavailable("Could not reserve a stream slot (contention); retry.")


async def count_stream_slots(js: JetStreamContext, owner_id: str) -> int:
    kv = await _bucket(js)
    try:
        entry = await kv.get(identity_key("streams", owner_id))
    except KeyNotFoundError:
        return 0
    slots: dict[str, float] = json.loads(entry.value or b"{}")
    now = time.time()
    return sum(1 for exp in slots.values() if exp > now)


@contextlib.asynccontextmanager
async def stream_slot(
    js: JetStreamContext, owner_id: str, max_slots: int, *, ttl_s: float = STREAM_SLOT_TTL_S
) -> AsyncIterator[str]:
    """Hold one of the account's concurrent stream slots while the block runs (renewed in the
    background); raises ``TooManyStreams`` when all are taken."""
    try:
        kv = await _bucket(js)
    except Exception as exc:
        raise Unavailable("The stream limiter is not available; retry shortly.") from exc
    key = identity_key("streams", owner_id)
    slot_id = uuid.uuid4().hex
    await _change_slots(kv, key, "add", slot_id, max_slots, ttl_s)

    done = asyncio.Event()  # not only the cancel: a lost one would renew the slot forever (cancel_and_wait)

    async def renew() -> None:
        while True:
            await asyncio.sleep(ttl_s / 3)
            if done.is_set():
                return
            with contextlib.suppress(Exception):
                await _change_slots(kv, key, "renew", slot_id, max_slots, ttl_s)

    renewer = asyncio.create_task(renew())
    ACTIVE_STREAMS.inc()
    try:
        yield slot_id
    finally:
        ACTIVE_STREAMS.dec()
        done.set()
        await cancel_and_wait(renewer, 5)
        with contextlib.suppress(Exception):
            await _change_slots(kv, key, "remove", slot_id, max_slots, ttl_s)


def acquire_stream_slot(state: GatewayState, owner_id: str) -> contextlib.AbstractAsyncContextManager[str]:
    """For ``/v1/listen``: ``async with acquire_stream_slot(state, owner_id): ...``; raises
    ``TooManyStreams`` (status 429, code ``too_many_streams``) at ``settings.max_streams_per_owner``."""
    return stream_slot(state.js, owner_id, state.settings.max_streams_per_owner)
