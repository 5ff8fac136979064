"""Closing a NATS connection at shutdown: quick, and nothing this process published is lost."""

from __future__ import annotations

import asyncio
import time

import nats

from ayka.connect import close_nats


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
