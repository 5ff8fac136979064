"""``ayka up`` as a user runs it: start, ready, stop, restart on the same data, one instance per data dir,
and one clear line for every bad start."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ayka.runtime.process import free_port, pid_alive
from tests.fixtures.up import AYKA, Up
from tests.fixtures.up import ayka_env as _env


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: its root is 0700, and the embedded PostgreSQL runs as another user.
    root = Path(tempfile.mkdtemp(prefix="ayka-test-up-"))
    yield root / "data"
    shutil.rmtree(root, ignore_errors=True)


def _child_pids(ready: dict[str, object]) -> list[int]:
    components = ready["components"]
    assert isinstance(components, dict)
    return [int(w["pid"]) for w in components["workers"]]


def test_up_starts_stops_restarts_on_the_same_data_and_refuses_a_second_instance(data_dir: Path) -> None:
    port = free_port()
    # Started as a shell starts a background job: Ctrl-C (SIGINT) must stop it all the same.
    up = Up(data_dir, port, sigint_ignored=True)
    try:
        ready = up.wait_ready()
        components = ready["components"]
        assert isinstance(components, dict)
        for name in ("nats", "postgres", "archive"):
            assert components[name]["state"] == "ready", components
        kinds = {w["kind"] for w in components["workers"]}
        assert {"asr", "recorder"} <= kinds
        pids = _child_pids(ready)

        made = subprocess.run(
            [*AYKA, "keys", "create", "--name", "ci"],
            env=_env(data_dir, port),
            capture_output=True,
            text=True,
        )
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip()
        me = httpx.get(f"http://127.0.0.1:{port}/v1/users/me", headers={"Authorization": f"Token {key}"})
        assert me.status_code == 200, me.text

        second = subprocess.run(
            [*AYKA, "up"], env=_env(data_dir, free_port()), capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 1
        assert "already using the data dir" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1, second.stderr
    finally:
        code, err = up.stop()
    assert code == 0, err
    time.sleep(0.5)
    assert not [pid for pid in pids if pid_alive(pid)], "children outlived ayka up"

    again = Up(data_dir, port)
    try:
        again.wait_ready()
        me = httpx.get(f"http://127.0.0.1:{port}/v1/users/me", headers={"Authorization": f"Token {key}"})
        assert me.status_code == 200, "data did not survive the restart"
    finally:
        again.stop()


def test_up_recovers_after_it_was_sigkilled(data_dir: Path) -> None:
    """A SIGKILLed `ayka up` leaves its PostgreSQL (and, without the parent-death signal, its children)
    running; the next start stops them and serves the same data."""
    port = free_port()
    up = Up(data_dir, port)
    try:
        ready = up.wait_ready()
        kinds = {w["kind"] for w in ready["components"]["workers"]}  # type: ignore[index]
        assert kinds == {"asr", "recorder", "diarize", "agents", "webhooks"}, kinds
        assert set(ready["components"]["worker_kinds"]) == kinds  # type: ignore[index]
        pids = _child_pids(ready)
        key = up.create_key("before-the-crash")
        up.proc.kill()
        up.proc.wait(timeout=10)
    finally:
        up.stop()
    assert (data_dir / "postgres" / "postmaster.pid").exists(), "nothing was left behind to recover from"

    again = Up(data_dir, port)
    try:
        again.wait_ready()
        me = httpx.get(f"http://127.0.0.1:{port}/v1/users/me", headers={"Authorization": f"Token {key}"})
        assert me.status_code == 200, "data did not survive the crash"
        assert not [pid for pid in pids if _running(pid)], "children of the killed ayka up still run"
    finally:
        code, err = again.stop()
    assert code == 0, err
    assert not list((data_dir / "run").glob("*.pid")), "a clean stop leaves no pid files"


def _running(pid: int) -> bool:
    """Alive and not a zombie: the killed parent's children are reaped by whoever adopts them, if anyone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return pid_alive(pid)


def _start_fails(env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run([*AYKA, "up"], env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stderr.strip()


def test_a_bad_setting_is_one_line_naming_it(data_dir: Path) -> None:
    code, err = _start_fails(_env(data_dir, 8000) | {"AYKA_PORT": "eighty"})
    assert code == 2
    assert "AYKA_PORT" in err and len(err.splitlines()) == 1


def test_a_port_in_use_is_one_line(data_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, err = _start_fails(_env(data_dir, port))
    assert code == 1
    assert "already in use" in err and "AYKA_PORT" in err
    assert len(err.splitlines()) == 1, err


def test_an_unwritable_data_dir_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, err = _start_fails(_env(blocker / "data", free_port()))
    assert code == 1
    assert "AYKA_DATA_DIR" in err and len(err.splitlines()) == 1, err


def test_an_unreachable_nats_is_one_line_and_leaves_nothing_running(data_dir: Path) -> None:
    port = free_port()
    code, err = _start_fails(_env(data_dir, free_port(), AYKA_NATS_URL=f"nats://127.0.0.1:{port}"))
    assert code == 1
    assert "AYKA_NATS_URL" in err and "unreachable" in err
    assert len(err.splitlines()) == 1, err
    assert not (data_dir / "postgres" / "postmaster.pid").exists(), "postgres left running"


def test_an_unreachable_database_is_one_line(data_dir: Path) -> None:
    port = free_port()
    code, err = _start_fails(
        _env(data_dir, free_port(), AYKA_DATABASE_URL=f"postgresql://u:secret@127.0.0.1:{port}/db")
    )
    assert code == 1
    assert "AYKA_DATABASE_URL" in err and "secret" not in err
    assert len(err.splitlines()) == 1, err


def test_an_unreachable_s3_archive_is_one_line_and_leaves_nothing_running(data_dir: Path) -> None:
    code, err = _start_fails(
        _env(
            data_dir,
            free_port(),
            AYKA_ARCHIVE_URL="s3://bucket/prefix",
            AYKA_S3_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
            AYKA_S3_ACCESS_KEY_ID="id",
            AYKA_S3_SECRET_ACCESS_KEY="secret",
        )
    )
    assert code == 1
    assert "AYKA_ARCHIVE_URL" in err and "not usable" in err
    assert len(err.splitlines()) == 1, err
    assert not (data_dir / "postgres" / "postmaster.pid").exists(), "postgres left running"
    assert not (data_dir / "nats" / "nats.pid").exists() or not _nats_running(data_dir)


def _nats_running(data_dir: Path) -> bool:
    pid = int((data_dir / "nats" / "nats.pid").read_text().strip() or 0)
    return pid_alive(pid)
