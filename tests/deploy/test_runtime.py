"""The containers' runtime contract, run for real against the suite's NATS and PostgreSQL: the migration
Job's `ayka migrate`, and a worker answering the health check (deploy/docker/healthcheck.py) on
AYKA_METRICS_PORT, which compose health checks and Kubernetes probes rely on."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.deploy.support import DEPLOY, VENV_BIN

HEALTHCHECK = DEPLOY / "docker" / "healthcheck.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def container_env(**settings: str) -> dict[str, str]:
    """A clean environment like the containers': only PATH, the offline switches and AYKA_* settings."""
    env = {
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
        "HF_HUB_OFFLINE": "1",
        "CREWAI_DISABLE_TELEMETRY": "true",
        "OTEL_SDK_DISABLED": "true",
        "CREWAI_TRACING_ENABLED": "false",
        "PYANNOTE_METRICS_ENABLED": "false",
        "HOME": os.environ.get("HOME", "/tmp"),
    }
    return env | {f"AYKA_{key.upper()}": value for key, value in settings.items()}


async def healthy(url: str) -> bool:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(HEALTHCHECK), url, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return await proc.wait() == 0


async def test_migrate_job_applies_then_is_a_no_op(make_database: Callable[..., Awaitable[str]]) -> None:
    dsn = await make_database(migrated=False)
    env = container_env(database_url=dsn)
    first = await asyncio.to_thread(
        subprocess.run,
        [str(VENV_BIN / "ayka"), "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied ") and not first.stdout.startswith("applied 0")
    again = await asyncio.to_thread(
        subprocess.run,
        [str(VENV_BIN / "ayka"), "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and again.stdout.startswith("applied 0"), again.stdout + again.stderr


async def test_migrate_without_a_database_fails_clearly() -> None:
    proc = await asyncio.to_thread(
        subprocess.run,
        [str(VENV_BIN / "ayka"), "migrate"],
        env=container_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "AYKA_DATABASE_URL" in proc.stderr


async def test_worker_answers_the_health_check_on_its_metrics_port(
    nats_url: str, make_database: Callable[..., Awaitable[str]], tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    assert not await healthy(url), "nothing listens yet"
    env = container_env(
        nats_url=nats_url,
        database_url=await make_database(),
        metrics_port=str(port),
        data_dir=str(tmp_path),
    )
    # The recorder: a worker with NATS, PostgreSQL and the archive (the default under AYKA_DATA_DIR).
    worker = await asyncio.create_subprocess_exec(
        str(VENV_BIN / "ayka"),
        "worker",
        "recorder",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    async def output() -> str:
        assert worker.stdout is not None
        return (await worker.stdout.read()).decode()[-2000:]

    try:
        deadline = time.monotonic() + 60
        while not await healthy(url):
            assert worker.returncode is None, await output()
            assert time.monotonic() < deadline, "the worker never answered on its metrics port"
            await asyncio.sleep(0.2)
        # SIGTERM, as Kubernetes and docker stop send it: the worker ends cleanly within the grace period.
        worker.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(worker.wait(), 30)
        assert code == 0, await output()
        assert not await healthy(url)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
