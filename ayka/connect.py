"""The one place that opens a NATS connection, and the worker heartbeat every process publishes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from typing import Any
from urllib.parse import urlparse

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from ayka import bus

log = logging.getLogger("ayka.nats")


class Unreachable(RuntimeError):
    """An outside service does not answer. The message says which and how to fix it."""


async def _wait_for_tcp(host: str, port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=1.0)
        except (OSError, TimeoutError):
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return


async def connect_nats(url: str, name: str, *, timeout_s: float = 10.0, lease_ttl_s: float = 4.0) -> NATS:
    """Connect (waiting for the port first: the client's own retries take minutes), reconnect forever
    afterwards, and make sure every stream and KV bucket exists."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 4222
    try:
        await _wait_for_tcp(host, port, timeout_s)
    except (OSError, TimeoutError) as exc:
        raise Unreachable(
            f"NATS at {url} is unreachable ({exc.__class__.__name__}); check AYKA_NATS_URL or unset it "
            "to run an embedded server"
        ) from exc

    async def on_error(exc: Exception) -> None:
        log.warning("nats: %s", exc)

    async def on_disconnect() -> None:
        log.warning("nats: disconnected from %s", url)

    async def on_reconnect() -> None:
        log.info("nats: reconnected to %s", url)
        try:  # memory-backed buckets (workers, rate limits) do not survive a server restart
            await bus.ensure_bus(nc.jetstream(), lease_ttl_s=lease_ttl_s)
        except Exception as exc:
            log.warning("nats: re-creating streams after reconnect failed: %s", exc)

    nc = await nats.connect(
        url,
        name=f"ayka-{name}-{socket.gethostname()}-{os.getpid()}",
        connect_timeout=2,
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.25,
        ping_interval=5,
        max_outstanding_pings=3,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
    )
    await bus.ensure_bus(nc.jetstream(), lease_ttl_s=lease_ttl_s)
    return nc


async def close_nats(nc: NATS, timeout_s: int = 5) -> None:
    """Flush what this process published or acknowledged, then close. Not ``drain()``: nats-py's JetStream
    fetch takes messages off a subscription's queue without ``task_done()``, so draining a connection
    that has pull consumers waits out its whole ``drain_timeout`` (30 s, a pod's whole grace period).
    Messages fetched but not acknowledged are redelivered to the next worker, as after a crash."""
    if nc.is_closed:
        return
    with contextlib.suppress(Exception):
        await nc.flush(timeout=timeout_s)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(nc.close(), timeout_s)


async def cancel_and_wait(task: asyncio.Task[Any], timeout_s: float) -> None:
    """Cancel ``task`` and wait for it to end, at most ``timeout_s``. On Python 3.11 ``asyncio.wait_for``
    (inside every nats-py request) returns its result instead of raising when the cancel lands just as
    the request completes: the task may run on, so its loop must also stop on a flag of its own, and
    the caller must not wait for it forever."""
    task.cancel()
    await asyncio.wait({task}, timeout=timeout_s)


class Heartbeat:
    """Puts this worker's ``WorkerInfo`` into the ``workers`` KV bucket every ``interval_s``; the bucket's
    TTL removes it when the process dies."""

    def __init__(self, nc: NATS, info: bus.WorkerInfo, interval_s: float = 1.0) -> None:
        self.nc = nc
        self.info = info
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def beat(self) -> None:
        kv = await self.nc.jetstream().key_value(bus.KV_WORKERS)
        self.info.updated_at = time.time()
        await kv.put(self.info.key, self.info.model_dump_json().encode())

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self.beat()
            except Exception as exc:  # NATS down: keep trying, the worker itself goes on
                log.debug("heartbeat failed: %s", exc)
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"heartbeat-{self.info.key}")

    async def stop(self) -> None:
        self._stopping = True  # (a lost cancel would keep a stopped worker advertised, and stop() hanging)
        if self._task is not None:
            await cancel_and_wait(self._task, self.interval_s + 5)
        with contextlib.suppress(Exception):
            kv = await self.nc.jetstream().key_value(bus.KV_WORKERS)
            await kv.delete(self.info.key)


async def list_workers(js: JetStreamContext) -> list[bus.WorkerInfo]:
    kv = await js.key_value(bus.KV_WORKERS)
    try:
        keys = await kv.keys()
    except nats.js.errors.NoKeysError:
        return []
    workers = []
    for key in keys:
        with contextlib.suppress(nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            entry = await kv.get(key)
            if entry.value:
                workers.append(bus.WorkerInfo.model_validate_json(entry.value))
    return sorted(workers, key=lambda w: (w.kind, w.worker_id))
