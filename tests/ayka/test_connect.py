"""Closing a NATS connection at shutdown: quick, and nothing this process published is lost; a worker's
heartbeat stops even when its cancel is lost."""

from __future__ import annotations

import asyncio
import contextlib
import time

import nats
from nats.aio.client import Client as NATS
from nats.js.errors import KeyNotFoundError

from ayka import bus
from ayka.connect import Heartbeat, close_nats


async def test_close_does_not_wait_on_unconsumed_messages_and_flushes_publishes(nats_url: str) -> None:
    watcher = await nats.connect(nats_url)
    seen = await watcher.subscribe("close-test.out")
    await watcher.flush()

    nc = await nats.connect(nats_url, drain_timeout=30)
    # A subscription with a message nobody took off its queue, as a cancelled JetStream fetch leaves
    # one: nats-py's drain() waits for it until drain_timeout.
    await nc.subscribe("close-test.in")
    await nc.publish("close-test.in", b"left over")
    await nc.flush()
    await nc.publish("close-test.out", b"sent just before shutdown")

    started = time.monotonic()
    await close_nats(nc)
    took = time.monotonic() - started

    assert nc.is_closed
    assert took < 10, f"closing took {took:.1f} s (drain would wait out its 30 s timeout)"
    msg = await asyncio.wait_for(seen.next_msg(), 5)
    assert msg.data == b"sent just before shutdown"
    await close_nats(nc)  # closing twice is harmless
    await close_nats(watcher)


async def test_a_heartbeat_stops_even_when_a_beat_loses_its_cancel(nc: NATS) -> None:
    # On Python 3.11 asyncio.wait_for (in every nats-py request) returns the reply instead of raising
    # when the cancel lands as the reply arrives. The heartbeat's loop then lived on: stop() waited for
    # it forever (the worker never exited) and the stopped worker stayed advertised.
    info = bus.WorkerInfo(kind=bus.WorkerKind.ASR, worker_id="lost-cancel", pid=1, host="h", capacity=1)
    heartbeat = Heartbeat(nc, info, interval_s=0.1)
    beat = heartbeat.beat
    in_beat = asyncio.Event()

    async def beat_that_loses_its_cancel() -> None:
        await beat()
        in_beat.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)  # the request in flight; the cancel is swallowed, as wait_for does

    heartbeat.beat = beat_that_loses_its_cancel  # type: ignore[method-assign]
    heartbeat.start()
    await in_beat.wait()
    await asyncio.wait_for(heartbeat.stop(), 10)
    kv = await nc.jetstream().key_value(bus.KV_WORKERS)
    await asyncio.sleep(0.3)  # no beat puts it back
    try:
        entry = await kv.get(info.key)
        assert not entry.value, "the stopped worker is still advertised"
    except KeyNotFoundError:
        pass
