"""The reliability tests' shared ``ayka up --asr-workers 2``: real processes (embedded NATS and PostgreSQL,
the gateway, two ASR workers and one of every other kind), started once for the package."""

from __future__ import annotations

import asyncio
import os
import shutil
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
from tests.reliability.cluster import LEASE_TTL_S, Client, make_root


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


@pytest.fixture(scope="package")
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
        # Same update interval on both workers whatever their start-up calibration measures: the
        # failover test compares words with and without the fault.
        AYKA_ASR_MIN_UPDATE_S="1.0",
        AYKA_ASR_QUICK_SESSIONS="2",
        AYKA_ASR_CAPACITY="4",
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
        shutil.rmtree(root, ignore_errors=True)
