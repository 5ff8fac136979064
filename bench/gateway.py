"""The gateway's own cost: N concurrent real-time WebSocket streams through one gateway process, with no
ASR behind it. Prints ingest-to-bus latency p50/p99 (a frame's client send time → its JetStream message
timestamp) and the gateway's CPU per stream.

The bench starts its own nats-server, PostgreSQL and one gateway process (``python -m ayka gateway``).
A stand-in worker takes each session's lease (KV ``asr-owners``) so the gateway admits the stream, and
answers ``session.end`` with the Flushed marker so ``CloseStream`` finishes at once.

    .venv/bin/python -m bench.gateway                       # 200 streams, 20 s
    .venv/bin/python -m bench.gateway --streams 50,100,200 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nats
import psutil  # type: ignore[import-untyped]
import websockets
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy
from nats.js.errors import KeyWrongLastSequenceError

from ayka import bus
from ayka.runtime.nats import EmbeddedNats
from ayka.runtime.postgres import EmbeddedPostgres
from ayka.runtime.process import free_port, stop_process, wait_for_port
from gateway.auth import create_api_key, ensure_local_user
from persistence.db import create_pool
from persistence.migrate import migrate_dsn

FRAME_BYTES = 3200
FRAME_S = 0.1


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


@dataclass
class Figures:
    streams: int
    opened: int = 0
    failed: int = 0
    open_s: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    frames_sent: int = 0
    cpu_percent: float = 0.0  # of one core, gateway process, over the steady window
    rss_mb: float = 0.0


class StandInWorker:
    """Claims every waiting session (as an ASR worker would) and flushes it on session.end."""

    def __init__(self, nc: NATS) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sessions = await self.js.key_value(bus.KV_ASR_SESSIONS)
        owners = await self.js.key_value(bus.KV_ASR_OWNERS)
        watcher = await sessions.watchall()

        async def claim() -> None:
            async for entry in watcher:
                if entry is None or not entry.value:
                    continue
                with contextlib.suppress(KeyWrongLastSequenceError, Exception):
                    await owners.create(entry.key, b"stand-in")

        async def on_end(msg: Msg) -> None:
            end = bus.SessionEnd.model_validate_json(msg.data)
            flushed = bus.SessionFlushed(session_id=end.session_id, last_seq=end.last_seq, finals=0)
            await self.js.publish(
                bus.final_subject(end.session_id),
                flushed.model_dump_json().encode(),
                headers={bus.HDR_KIND: bus.FinalKind.FLUSHED.value},
            )
            with contextlib.suppress(Exception):
                await sessions.delete(end.session_id)

        await self.nc.subscribe(bus.every_session(bus.SESSION_END), cb=on_end)
        self._task = asyncio.create_task(claim())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


class BusClock:
    """When each audio frame landed in JetStream (its stored timestamp), by (session, seq)."""

    def __init__(self, nc: NATS) -> None:
        self.nc = nc
        self.stored: dict[tuple[str, int], float] = {}

    async def start(self) -> None:
        async def on_audio(msg: Msg) -> None:
            headers = msg.headers or {}
            if headers.get(bus.HDR_KIND, "audio") != bus.FrameKind.AUDIO.value:
                return
            seq = int(headers.get(bus.HDR_SEQ, "-1"))
            self.stored[(bus.session_of(msg.subject), seq)] = msg.metadata.timestamp.timestamp()

        from nats.js.api import ConsumerConfig

        await self.nc.jetstream().subscribe(
            f"{bus.AUDIO_PREFIX}.*",
            cb=on_audio,
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
        )


def _make_root() -> Path:
    root = Path(tempfile.mkdtemp(prefix="ayka-bench-gw-"))
    root.chmod(0o755)  # the embedded PostgreSQL runs as another user when we are root
    return root


def _spawn_gateway(root: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(root / "gateway.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "ayka", "gateway"], env=env, stdout=log, stderr=subprocess.STDOUT
        )


@dataclass
class Stack:
    root: Path
    nats: EmbeddedNats
    postgres: EmbeddedPostgres
    gateway: subprocess.Popen[bytes]
    port: int
    key: str

    @classmethod
    async def start(cls) -> Stack:
        root = _make_root()
        nats_server = EmbeddedNats(root / "nats")
        nats_url = nats_server.start()
        postgres = EmbeddedPostgres(root / "pgdata", durable=False)
        dsn = await asyncio.to_thread(postgres.start)
        await migrate_dsn(dsn)
        pool = await create_pool(dsn)
        owner = await ensure_local_user(pool)
        _public, key = await create_api_key(pool, owner, "bench", ["listen"])
        await pool.close()
        port = free_port()
        env = dict(
            os.environ,
            AYKA_DATA_DIR=str(root / "data"),
            AYKA_HOST="127.0.0.1",
            AYKA_PORT=str(port),
            AYKA_NATS_URL=nats_url,
            AYKA_DATABASE_URL=dsn,
            AYKA_DIARIZE_BACKEND="off",
            AYKA_MAX_STREAMS_PER_OWNER="5000",
            AYKA_RATE_LIMIT_PER_MINUTE="1000000",
            AYKA_LOG_LEVEL="WARNING",
        )
        gateway = _spawn_gateway(root, env)
        await asyncio.to_thread(wait_for_port, "127.0.0.1", port, 120, gateway)
        return cls(root, nats_server, postgres, gateway, port, key)

    def stop(self) -> None:
        stop_process(self.gateway, 15)
        self.postgres.stop()
        self.nats.stop()
        shutil.rmtree(self.root, ignore_errors=True)


async def run_streams(stack: Stack, clock: BusClock, streams: int, seconds: float) -> Figures:
    figures = Figures(streams=streams)
    sent: dict[tuple[str, int], float] = {}
    url = f"ws://127.0.0.1:{stack.port}/v1/listen?encoding=linear16&sample_rate=16000&interim_results=false"
    headers = {"Authorization": f"Token {stack.key}"}
    frames = int(seconds / FRAME_S)
    payload = os.urandom(FRAME_BYTES)
    opening = asyncio.Semaphore(16)  # open in waves, as clients arrive, not all in one instant
    all_open = asyncio.Event()
    opened = 0
    gateway = psutil.Process(stack.gateway.pid)

    async def one(index: int) -> None:
        nonlocal opened
        try:
            async with opening:
                started = time.monotonic()
                ws = await websockets.connect(url, additional_headers=headers)
                metadata = json.loads(await asyncio.wait_for(ws.recv(), 60))
                figures.open_s.append(time.monotonic() - started)
        except Exception as exc:
            figures.failed += 1
            print(f"  stream {index} failed to open: {exc}", file=sys.stderr)
            return
        opened += 1
        if opened == streams - figures.failed:
            all_open.set()
        session_id = metadata["session_id"]
        drain = asyncio.create_task(_drain(ws))
        try:
            await all_open.wait()
            await asyncio.sleep(random.random() * FRAME_S)  # spread the streams over the frame period
            t0 = time.monotonic()
            for seq in range(frames):
                delay = t0 + seq * FRAME_S - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent[(session_id, seq)] = time.time()
                await ws.send(payload)
                figures.frames_sent += 1
            await ws.send(json.dumps({"type": "CloseStream"}))
            await asyncio.wait_for(drain, 60)
        except Exception as exc:
            figures.failed += 1
            print(f"  stream {index} failed: {exc}", file=sys.stderr)
        finally:
            drain.cancel()
            await ws.close()

    tasks = [asyncio.create_task(one(i)) for i in range(streams)]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_open.wait(), 600)
    figures.opened = len(figures.open_s)
    # CPU over the steady middle of the run (skip the first and last second).
    await asyncio.sleep(1.5)
    gateway.cpu_percent(None)
    window = max(1.0, seconds - 3)
    await asyncio.sleep(window)
    figures.cpu_percent = gateway.cpu_percent(None)
    figures.rss_mb = gateway.memory_info().rss / 2**20
    await asyncio.gather(*tasks)
    await asyncio.sleep(1.0)
    for key, at in sent.items():
        stored = clock.stored.get(key)
        if stored is not None:
            figures.latencies_ms.append((stored - at) * 1000)
    return figures


async def _drain(ws: websockets.ClientConnection) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        async for _ in ws:
            pass


def report(f: Figures, seconds: float) -> None:
    lat = f.latencies_ms
    missing = f.frames_sent - len(lat)
    print(
        f"streams {f.streams:4d}  opened {f.opened:4d}  failed {f.failed:3d}  "
        f"open p50 {percentile(f.open_s, 50) * 1000:6.0f} ms  "
        f"ingest→bus p50 {percentile(lat, 50):6.2f} ms  p99 {percentile(lat, 99):7.2f} ms  "
        f"max {max(lat, default=float('nan')):7.1f} ms  "
        f"frames {len(lat)}/{f.frames_sent} ({missing} unmatched)  "
        f"gateway CPU {f.cpu_percent:5.1f} % of a core = {f.cpu_percent / max(f.streams, 1):.3f} %/stream  "
        f"RSS {f.rss_mb:.0f} MB",
        flush=True,
    )


async def main(streams_list: list[int], seconds: float) -> None:
    stack = await Stack.start()
    nc = await nats.connect(stack.nats.url)
    try:
        worker = StandInWorker(nc)
        await worker.start()
        clock = BusClock(nc)
        await clock.start()
        print(f"gateway pid {stack.gateway.pid}; {os.cpu_count()} CPUs; {seconds:.0f} s of real-time audio")
        for streams in streams_list:
            figures = await run_streams(stack, clock, streams, seconds)
            report(figures, seconds)
            clock.stored.clear()
        await worker.stop()
    finally:
        await nc.close()
        stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", default="200", help="comma-separated stream counts, run in turn")
    parser.add_argument("--seconds", type=float, default=20.0, help="audio per stream, sent in real time")
    args = parser.parse_args()
    asyncio.run(main([int(n) for n in args.streams.split(",")], args.seconds))
