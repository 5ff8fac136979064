"""``ayka up --asr-workers 2``: kill -9 the ASR worker that owns a live session. The session moves to
the other worker (it resumes from the progress point in KV and replays the audio), the client's final
transcript equals a run without the fault, nothing is lost in storage, and the supervisor restarts the
killed worker."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ayka.runtime.postgres import EmbeddedPostgres
from ayka.runtime.process import free_port, stop_process
from persistence.archive import open_archive
from persistence.db import create_pool
from tests.reliability.cluster import LEASE_TTL_S, Client, clip_pcm, make_root

pytestmark = pytest.mark.timeout(300)

CLIP_S = 12.0
FAULT_FRAME = 45


@dataclass
class Up:
    base_url: str
    client: Client
    proc: subprocess.Popen[bytes]
    root: Path

    async def readyz(self) -> dict[str, Any]:
        async with httpx.AsyncClient() as http:
            response = await http.get(f"{self.base_url}/readyz", timeout=5)
        body: dict[str, Any] = response.json()
        return body

    async def asr_workers(self) -> list[dict[str, Any]]:
        try:
            body = await self.readyz()
        except (httpx.HTTPError, ValueError):
            return []
        return [w for w in body.get("components", {}).get("workers", []) if w["kind"] == "asr"]


def _start_up(root: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(root / "up.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "ayka", "up", "--asr-workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


@pytest.fixture(scope="module")
async def up() -> AsyncIterator[Up]:
    root = make_root("ayka-rel-up-")
    port = free_port()
    env = dict(
        os.environ,
        AYKA_DATA_DIR=str(root / "data"),
        AYKA_HOST="127.0.0.1",
        AYKA_PORT=str(port),
        AYKA_DIARIZE_BACKEND="off",
        AYKA_ASR_LEASE_TTL_S=str(LEASE_TTL_S),
        AYKA_ASR_CPU_THREADS="1",
    )
    proc = _start_up(root, env)
    pool = None
    try:
        deadline = time.monotonic() + 240
        while "AYKA is ready" not in (root / "up.log").read_text(errors="replace"):
            assert proc.poll() is None, (root / "up.log").read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "ayka up not ready in 240 s"
            await asyncio.sleep(0.5)
        key = (
            (
                await asyncio.to_thread(
                    subprocess.run,
                    [sys.executable, "-m", "ayka", "keys", "create", "--name", "reliability"],
                    env=env,
                    capture_output=True,
                    check=True,
                )
            )
            .stdout.decode()
            .strip()
        )
        dsn = EmbeddedPostgres(root / "data" / "postgres").running_dsn()
        assert dsn
        pool = await create_pool(dsn)
        archive = open_archive((root / "data" / "archive").as_uri())
        platform = Up(f"http://127.0.0.1:{port}", Client(pool, archive, key), proc, root)
        while len(await platform.asr_workers()) < 2:
            assert time.monotonic() < deadline, await platform.readyz()
            await asyncio.sleep(0.5)
        yield platform
    finally:
        if pool is not None:
            await pool.close()
        await asyncio.to_thread(stop_process, proc, 60)
        import shutil

        shutil.rmtree(root, ignore_errors=True)


async def test_readyz_lists_each_asr_worker_with_its_pid(up: Up) -> None:
    workers = await up.asr_workers()
    assert len(workers) == 2
    pids = {w["pid"] for w in workers}
    assert len(pids) == 2 and all(isinstance(p, int) and p > 0 for p in pids)
    for pid in pids:
        os.kill(pid, 0)  # real, live processes


async def test_killing_the_owning_asr_worker_moves_the_session_and_keeps_the_transcript(up: Up) -> None:
    pcm = clip_pcm(CLIP_S)
    baseline, _ = await up.client.stream(up.base_url, pcm)
    baseline_words = await up.client.check_nothing_lost(baseline, pcm)
    assert len(baseline_words) >= 15

    killed: list[dict[str, Any]] = []

    async def fault(messages: list[dict[str, Any]]) -> None:
        await up.client.session_of(messages)
        # The one live session is this stream's: kill the worker /readyz says owns it.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for worker in await up.asr_workers():
                if worker["sessions"]:
                    os.kill(worker["pid"], signal.SIGKILL)
                    killed.append(worker)
                    return
            await asyncio.sleep(0.1)
        raise AssertionError("no ASR worker listed the session in /readyz")

    result, messages = await up.client.stream(up.base_url, pcm, fault_at_frame=FAULT_FRAME, fault=fault)
    assert killed, "the owner was not killed"
    assert killed[0]["sessions"] == [result.transcript.session_id]
    words = await up.client.check_nothing_lost(result, pcm)
    assert words == baseline_words, (words, baseline_words)
    assert not [m for m in messages if m.get("type") == "Error"]

    # The supervisor restarts the killed worker: two ASR workers again, the killed pid gone.
    deadline = time.monotonic() + 120
    while True:
        workers = await up.asr_workers()
        pids = {w["pid"] for w in workers}
        if len(workers) == 2 and killed[0]["pid"] not in pids:
            break
        assert time.monotonic() < deadline, workers
        await asyncio.sleep(0.5)
