"""Load: N concurrent real-time WebSocket streams against a running platform (``ayka up``).

Each stream sends the sample clip (cut or looped to ``--seconds``) at real-time pace through
``/v1/listen`` and reports: sessions succeeded / failed, first-interim latency (first interim result
after the first speech onset), finalization latency p50/p95/p99 (arrival of the final that carries a
word minus that word's end in the audio), ASR lag (audio sent minus the end of the last word of each
result, interim or final), and the CPU of the gateway and of the ASR workers (psutil; pids from
``/readyz`` and the gateway's listening port).

    .venv/bin/python -m bench.load --url http://127.0.0.1:8000 --key KEY --streams 4 --seconds 30
    .venv/bin/python -m bench.load --start --asr-workers 1 --streams 1,2,4,6 --seconds 30
        # --start runs its own `ayka up` in a temporary data dir (and creates the key)

Without ``--key`` the key is created with ``ayka keys create`` (AYKA_DATA_DIR must name the data dir of
the running ``ayka up``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import numpy as np
import psutil  # type: ignore[import-untyped]

from ayka.runtime.process import free_port, stop_process
from ayka.stream_client import stream_frames
from tests.data.clips import sample_clip

FRAME_BYTES = 3200
FRAME_S = 0.1


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


@dataclass
class StreamFigures:
    ok: bool = False
    error: str = ""
    first_interim_s: float | None = None
    finalization_s: list[float] = field(default_factory=list)
    lag_s: list[float] = field(default_factory=list)
    words: int = 0


def clip_pcm(seconds: float) -> tuple[bytes, float]:
    """The sample clip cut or looped to ``seconds``; and its first speech onset."""
    clip = sample_clip()
    reps = int(np.ceil(seconds / clip.duration_s))
    audio = np.tile(clip.audio, reps)[: int(seconds * 16000)]
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes(), clip.speech_onsets_s[0]


async def one_stream(url: str, key: str, pcm: bytes, onset_s: float, delay_s: float) -> StreamFigures:
    figures = StreamFigures()
    await asyncio.sleep(delay_s)
    t0 = 0.0
    sent = 0

    async def frames() -> AsyncIterator[bytes]:
        nonlocal t0, sent
        t0 = time.monotonic()
        for n, i in enumerate(range(0, len(pcm), FRAME_BYTES)):
            wait = t0 + n * FRAME_S - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            sent = n + 1
            yield pcm[i : i + FRAME_BYTES]

    def on_message(message: dict[str, Any]) -> None:
        if message.get("type") != "Results":
            return
        now = time.monotonic()
        words = message["channel"]["alternatives"][0]["words"]
        if words:  # how far the transcript trails the audio sent: the ASR side's lag, as a client sees it
            figures.lag_s.append(max(0.0, sent * FRAME_S - float(words[-1]["end"])))
        if not message["is_final"]:
            if figures.first_interim_s is None and words:
                figures.first_interim_s = now - (t0 + onset_s)
            return
        for word in words:
            figures.finalization_s.append(now - (t0 + float(word["end"])))
        figures.words += len(words)

    try:
        result = await stream_frames(url, key, frames(), on_message=on_message)
    except Exception as exc:
        figures.error = f"{exc.__class__.__name__}: {exc}"
        return figures
    figures.ok = result.close_code == 1000
    if not figures.ok:
        figures.error = f"closed {result.close_code}: {result.close_reason}"
    return figures


def gateway_pid(url: str) -> int | None:
    port = urlparse(url).port or 80
    with contextlib.suppress(psutil.AccessDenied):
        for conn in psutil.net_connections("tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                return int(conn.pid)
    return None


async def asr_pids(url: str) -> list[int]:
    try:
        async with httpx.AsyncClient(trust_env=False) as client:
            body = (await client.get(f"{url}/readyz", timeout=10)).json()
    except (httpx.HTTPError, ValueError) as exc:
        print(f"  /readyz unavailable ({exc}); no worker CPU", file=sys.stderr)
        return []
    return [w["pid"] for w in body.get("components", {}).get("workers", []) if w["kind"] == "asr"]


def _cpu(pids: list[int]) -> list[psutil.Process]:
    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            proc.cpu_percent(None)
            procs.append(proc)
    return procs


def _cpu_read(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.cpu_percent(None)
    return total


@dataclass
class LoadFigures:
    """One load step: what every stream saw, pooled."""

    streams: int
    results: list[StreamFigures]
    elapsed_s: float
    gateway_cpu_pct: float
    workers_cpu_pct: float
    worker_procs: int

    @property
    def ok(self) -> list[StreamFigures]:
        return [r for r in self.results if r.ok]

    @property
    def failed(self) -> list[StreamFigures]:
        return [r for r in self.results if not r.ok]

    @property
    def finalization_s(self) -> list[float]:
        return [x for r in self.ok for x in r.finalization_s]

    @property
    def first_interim_s(self) -> list[float]:
        return [r.first_interim_s for r in self.ok if r.first_interim_s is not None]

    @property
    def lag_s(self) -> list[float]:
        return [x for r in self.ok for x in r.lag_s]

    def line(self) -> str:
        fin, first, lag = self.finalization_s, self.first_interim_s, self.lag_s
        return (
            f"streams {self.streams:3d}  ok {len(self.ok):3d}  failed {len(self.failed):3d}  "
            f"first-interim p50 {percentile(first, 50):5.2f} s  p95 {percentile(first, 95):5.2f} s  "
            f"finalization p50 {percentile(fin, 50):5.2f} s  p95 {percentile(fin, 95):5.2f} s  "
            f"p99 {percentile(fin, 99):5.2f} s  ASR lag p95 {percentile(lag, 95):5.2f} s max "
            f"{max(lag, default=float('nan')):5.2f} s  gateway CPU {self.gateway_cpu_pct:5.1f} %  "
            f"ASR workers CPU {self.workers_cpu_pct:5.1f} % ({self.worker_procs} procs)  "
            f"words {sum(r.words for r in self.ok)}  wall {self.elapsed_s:.0f} s"
        )


async def run(url: str, key: str, streams: int, seconds: float) -> LoadFigures:
    """``streams`` real-time streams of ``seconds`` each, started within a second of each other."""
    pcm, onset_s = clip_pcm(seconds)
    gateway = _cpu([pid] if (pid := gateway_pid(url)) else [])
    workers = _cpu(await asr_pids(url))
    started = time.monotonic()
    results = await asyncio.gather(
        *(one_stream(url, key, pcm, onset_s, random.random() * 1.0) for _ in range(streams))
    )
    return LoadFigures(
        streams=streams,
        results=list(results),
        elapsed_s=time.monotonic() - started,
        gateway_cpu_pct=_cpu_read(gateway),
        workers_cpu_pct=_cpu_read(workers),
        worker_procs=len(workers),
    )


def create_key(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "ayka", "keys", "create", "--name", f"load-{int(time.time())}"],
        env=env,
        capture_output=True,
        check=True,
    )
    return out.stdout.decode().strip()


@contextlib.contextmanager
def started_platform(asr_workers: int) -> Any:
    """`ayka up` in a temporary data dir; yields (url, env)."""
    root = Path(tempfile.mkdtemp(prefix="ayka-bench-load-"))
    root.chmod(0o755)
    port = free_port()
    env = dict(
        os.environ,
        AYKA_DATA_DIR=str(root / "data"),
        AYKA_HOST="127.0.0.1",
        AYKA_PORT=str(port),
        AYKA_DIARIZE_BACKEND="off",
        AYKA_ASR_CAPACITY="64",
        AYKA_MAX_STREAMS_PER_OWNER="1000",
        AYKA_RATE_LIMIT_PER_MINUTE="100000",
        AYKA_LOG_LEVEL="WARNING",
    )
    with open(root / "up.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ayka", "up", "--asr-workers", str(asr_workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 300
        while "AYKA is ready" not in (root / "up.log").read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit((root / "up.log").read_text(errors="replace")[-2000:])
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", env
    finally:
        stop_process(proc, 60)
        shutil.rmtree(root, ignore_errors=True)


async def main_async(url: str, key: str, streams_list: list[int], seconds: float) -> None:
    print(f"{url}; {os.cpu_count()} CPUs; {seconds:.0f} s per stream at real time")
    for streams in streams_list:
        figures = await run(url, key, streams, seconds)
        print(figures.line(), flush=True)
        for failed in figures.failed:
            print(f"  failed: {failed.error}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the gateway's base URL")
    parser.add_argument("--key", default=os.environ.get("AYKA_API_KEY", ""), help="API key (default: create)")
    parser.add_argument("--streams", default="4", help="comma-separated stream counts, run in turn")
    parser.add_argument("--seconds", type=float, default=30.0, help="audio per stream (real time)")
    parser.add_argument("--start", action="store_true", help="run an own `ayka up` in a temp data dir")
    parser.add_argument("--asr-workers", type=int, default=1, help="with --start: ASR worker processes")
    args = parser.parse_args()
    counts = [int(n) for n in args.streams.split(",")]
    if args.start:
        with started_platform(args.asr_workers) as (url, env):
            asyncio.run(main_async(url, create_key(env), counts, args.seconds))
        return
    key = args.key or create_key(dict(os.environ))
    asyncio.run(main_async(args.url, key, counts, args.seconds))


if __name__ == "__main__":
    main()
