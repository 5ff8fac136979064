"""The embedded PostgreSQL of ``ayka up`` (ayka/runtime/postgres.py): lifecycle, persistence, refusals."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ayka.runtime.postgres import EmbeddedPostgres, PostgresStartError, ensure_database
from persistence.db import connect


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """Outside /tmp/pytest-of-<user>, which pytest makes 0700 when another test session starts
    (the server runs as another user when we are root)."""
    root = Path(tempfile.mkdtemp(prefix="ayka-test-pg-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


async def _query(dsn: str, sql: str) -> object:
    conn = await connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def _execute(dsn: str, sql: str) -> None:
    conn = await connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def test_start_restart_second_instance_and_crash_recovery(tmp_path: Path) -> None:
    data = tmp_path / "pg"
    servers: list[EmbeddedPostgres] = []
    try:
        await _lifecycle(data, servers)
    finally:
        for server in servers:
            server.stop()  # even when an assertion failed: no server left running


async def _lifecycle(data: Path, servers: list[EmbeddedPostgres]) -> None:
    server = EmbeddedPostgres(data, durable=False)
    servers.append(server)
    started = time.monotonic()
    dsn = server.start()
    first_start_s = time.monotonic() - started
    assert server.is_running() and dsn.startswith("postgresql://postgres:") and dsn.endswith("/ayka")
    await _execute(dsn, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before restart')")

    beside = EmbeddedPostgres(data, durable=False)  # e.g. `ayka keys create` next to `ayka up`
    assert beside.running_dsn() == dsn
    with pytest.raises(PostgresStartError, match="already uses the data dir"):
        beside.start()
    assert server.is_running()  # the refused second instance did not disturb the first

    server.stop()
    assert not server.is_running()
    server.stop()  # stopping twice is fine
    assert beside.running_dsn() is None
    # A new process would do the same; durable, so that a commit survives the kill -9 below.
    restarted = EmbeddedPostgres(data)
    servers.append(restarted)
    dsn = restarted.start()
    assert await _query(dsn, "SELECT v FROM kept") == "before restart"
    await _execute(dsn, "INSERT INTO kept VALUES ('before crash')")

    pid = int((data / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)  # unclean shutdown: stale postmaster.pid, WAL recovery needed
    deadline = time.monotonic() + 10
    while restarted.is_running() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert (data / "postmaster.pid").exists()
    recovered = EmbeddedPostgres(data, durable=False)
    servers.append(recovered)
    dsn = recovered.start()
    assert await _query(dsn, "SELECT count(*) FROM kept") == 2
    await ensure_database(dsn, "second")
    await ensure_database(dsn, "second")  # idempotent
    assert await _query(recovered.dsn_for("second"), "SELECT current_database()") == "second"
    recovered.stop()
    assert first_start_s < 20


def test_port_in_use_is_refused(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PostgresStartError, match=f"port {port} on 127.0.0.1 is already in use"):
            EmbeddedPostgres(tmp_path / "pg", port=port, durable=False).start()


def test_unwritable_data_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(PostgresStartError, match="is not writable"):
        EmbeddedPostgres(tmp_path / "a-file" / "pg").start()


def test_foreign_non_empty_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pg").mkdir()
    (tmp_path / "pg" / "notes.txt").write_text("mine")
    with pytest.raises(PostgresStartError, match="holds no PostgreSQL cluster"):
        EmbeddedPostgres(tmp_path / "pg", durable=False).start()
