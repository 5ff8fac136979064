"""``ayka up``: the whole platform on one machine.

Starts embedded NATS and PostgreSQL (unless AYKA_NATS_URL / AYKA_DATABASE_URL name outside ones), applies
migrations, then runs the gateway and one process per worker (N ASR workers) as children, restarts a
child that dies, and stops everything on SIGINT/SIGTERM. One ``ayka up`` per data dir (a lock file that
the kernel releases when the process dies, so a crash never blocks the next start). Children get SIGTERM
when ``ayka up`` dies, however it dies (Linux); whatever still runs from a crashed start (recorded in
``<data_dir>/run/*.pid``, and a postmaster on the data dir) is stopped before the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from ayka.runtime.nats import EmbeddedNats
from ayka.runtime.process import (
    StartError,
    die_with_parent,
    port_in_use,
    stop_pid_file,
    stop_process,
    write_pid_file,
)
from ayka.settings import Settings

log = logging.getLogger("ayka.up")

WORKER_KINDS = ("recorder", "diarize", "agents", "webhooks")
READY_TIMEOUT_S = 300.0


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    log_file: IO[bytes] | None = field(default=None, repr=False)

    def start(self, log_dir: Path, pid_dir: Path) -> None:
        if self.log_file is None:
            self.log_file = open(log_dir / f"{self.name}.log", "ab")  # noqa: SIM115 - lives with the child
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),  # only prctl in the child: no locks taken
        )
        write_pid_file(pid_dir / f"{self.name}.pid", self.proc.pid)
        self.started_at = time.monotonic()


class DataDirLock:
    """An exclusive flock on ``<data_dir>/ayka.lock``; the pid inside is for the error message only."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "ayka.lock"
        self.fh: IO[str] | None = None

    def acquire(self) -> None:
        self.fh = open(self.path, "a+")  # noqa: SIM115 - held for the life of the process
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            pid = self.fh.read().strip() or "?"
            self.fh.close()
            self.fh = None
            raise StartError(
                f"another `ayka up` (pid {pid}) is already using the data dir {self.path.parent}; stop it, "
                "or set AYKA_DATA_DIR to another directory"
            ) from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(str(os.getpid()))
        self.fh.flush()

    def release(self) -> None:
        if self.fh is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None


def check_data_dir(data_dir: Path) -> Path:
    data_dir = data_dir.expanduser().absolute()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise StartError(
            f"data dir {data_dir} is not usable ({exc.strerror}); set AYKA_DATA_DIR to a writable directory"
        ) from None
    return data_dir


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = check_data_dir(settings.data_dir)
        self.lock = DataDirLock(self.data_dir)
        self.nats: EmbeddedNats | None = None
        self.postgres: object | None = None
        self.children: list[Child] = []
        self.stopping = False
        self.pid_dir = self.data_dir / "run"
        self.pid_dir.mkdir(exist_ok=True)

    def stop_leftovers(self) -> None:
        """Stop what a crashed ``ayka up`` on this data dir left running (call with the lock held):
        recorded children and nats-server first, then a postmaster still on the data dir."""
        pid_files = sorted(self.pid_dir.glob("*.pid"), key=lambda p: p.name == "nats.pid")
        for pid_file in pid_files:
            if stop_pid_file(pid_file):
                log.warning("stopped %s, left running by an earlier ayka up", pid_file.stem)
        if self.settings.database_url or not (self.data_dir / "postgres" / "PG_VERSION").exists():
            return
        from ayka.runtime.postgres import EmbeddedPostgres, PostgresStartError

        try:
            if EmbeddedPostgres(self.data_dir / "postgres").stop_leftover():
                log.warning("stopped PostgreSQL, left running by an earlier ayka up")
        except PostgresStartError as exc:
            raise StartError(f"PostgreSQL left running on {self.data_dir} did not stop: {exc}") from None

    # ------------------------------------------------------------ start

    def start_services(self) -> dict[str, str]:
        """Embedded NATS and PostgreSQL (or checks of the outside ones); returns the env for children."""
        settings = self.settings
        if port_in_use(settings.host, settings.port):
            raise StartError(
                f"port {settings.host}:{settings.port} is already in use; stop what uses it or set AYKA_PORT"
            )
        env = dict(os.environ)
        env["AYKA_DATA_DIR"] = str(self.data_dir)
        env["AYKA_JWT_SECRET"] = settings.jwt_secret
        env["AYKA_URL_SIGNING_SECRET"] = settings.url_signing_secret
        env["AYKA_ARCHIVE_URL"] = settings.archive_url
        if settings.nats_url:
            _check_tcp(settings.nats_url, "NATS", "AYKA_NATS_URL")
            env["AYKA_NATS_URL"] = settings.nats_url
        else:
            self.nats = EmbeddedNats(self.data_dir / "nats")
            env["AYKA_NATS_URL"] = self.nats.start()
            if self.nats.proc is not None:
                write_pid_file(self.pid_dir / "nats.pid", self.nats.proc.pid)
            log.info("nats-server at %s", env["AYKA_NATS_URL"])
        if settings.database_url:
            env["AYKA_DATABASE_URL"] = settings.database_url
        else:
            from ayka.runtime.postgres import EmbeddedPostgres, PostgresStartError

            postgres = EmbeddedPostgres(self.data_dir / "postgres")
            self.postgres = postgres
            try:
                env["AYKA_DATABASE_URL"] = postgres.start()
            except PostgresStartError as exc:
                raise StartError(f"PostgreSQL did not start: {exc}") from None
            log.info("postgres at 127.0.0.1:%s", postgres.port)
        self._migrate(env["AYKA_DATABASE_URL"])
        self._check_archive()
        return env

    def _check_archive(self) -> None:
        from persistence.archive import open_archive

        try:
            open_archive(self.settings).check_sync()
        except Exception as exc:
            raise StartError(
                f"the archive {self.settings.archive_url} is not usable: {exc}; check AYKA_ARCHIVE_URL"
            ) from None

    def _migrate(self, dsn: str) -> None:
        from persistence.migrate import migrate_dsn

        async def run() -> list[str]:
            return await asyncio.wait_for(migrate_dsn(dsn), 60)

        try:
            applied = asyncio.run(run())
        except (OSError, TimeoutError) as exc:
            reason = exc.__class__.__name__
            where = _redact(dsn)
            raise StartError(
                f"PostgreSQL at {where} is unreachable ({reason}); check AYKA_DATABASE_URL"
            ) from None
        except Exception as exc:
            raise StartError(f"PostgreSQL at {_redact(dsn)} refused the migrations: {exc}") from None
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))

    def plan_children(self, env: dict[str, str], asr_workers: int) -> None:
        ayka = [sys.executable, "-m", "ayka"]
        # The gateway's /readyz waits for every kind started here, and only those.
        kinds = (["asr"] if asr_workers else []) + list(WORKER_KINDS)
        env = {**env, "AYKA_REQUIRED_WORKERS": ",".join(kinds)}
        self.children = [Child("gateway", [*ayka, "gateway"], env)]
        for i in range(asr_workers):
            self.children.append(Child(f"asr-{i + 1}", [*ayka, "worker", "asr"], env))
        for kind in WORKER_KINDS:
            self.children.append(Child(kind, [*ayka, "worker", kind], env))

    def start_children(self) -> None:
        log_dir = self.data_dir / "logs"
        log_dir.mkdir(exist_ok=True)
        for child in self.children:
            child.start(log_dir, self.pid_dir)

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> dict[str, object]:
        url = f"http://{self.settings.host}:{self.settings.port}/readyz"
        deadline = time.monotonic() + timeout_s
        last: dict[str, object] = {}
        while time.monotonic() < deadline:
            for child in self.children:
                if child.proc is not None and child.proc.poll() is not None and child.name == "gateway":
                    log_path = self.data_dir / "logs" / "gateway.log"
                    raise StartError(f"the gateway exited with code {child.proc.returncode}; see {log_path}")
            with contextlib.suppress(httpx.HTTPError, ValueError):
                response = httpx.get(url, timeout=2)
                last = response.json()
                if response.status_code == 200:
                    return last
            time.sleep(0.5)
        raise StartError(f"the platform was not ready after {timeout_s:.0f} s: {last}")

    # ------------------------------------------------------------ run and stop

    def supervise(self, stop: list[bool]) -> None:
        """Restart children that die (with backoff) until asked to stop."""
        while not stop[0]:
            for child in self.children:
                if child.proc is not None and child.proc.poll() is not None and not stop[0]:
                    code = child.proc.returncode
                    recent = time.monotonic() - child.started_at < 60
                    backoff = min(2**child.restarts, 30) if recent else 1
                    log.warning("%s exited with code %s; restarting in %ss", child.name, code, backoff)
                    time.sleep(backoff)
                    child.restarts += 1
                    child.start(self.data_dir / "logs", self.pid_dir)
            time.sleep(0.2)

    def stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        for child in self.children:
            if child.proc is not None and child.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.proc.send_signal(signal.SIGTERM)
        for child in self.children:
            if child.proc is not None:
                stop_process(child.proc, timeout_s=15)
                (self.pid_dir / f"{child.name}.pid").unlink(missing_ok=True)
            if child.log_file is not None:
                child.log_file.close()
        if self.postgres is not None:
            with contextlib.suppress(Exception):
                self.postgres.stop()  # type: ignore[attr-defined]
        if self.nats is not None:
            self.nats.stop()
            (self.pid_dir / "nats.pid").unlink(missing_ok=True)
        self.lock.release()


def _check_tcp(url: str, what: str, setting: str) -> None:
    from urllib.parse import urlparse

    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 4222
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        raise StartError(
            f"{what} at {host}:{port} is unreachable ({exc.strerror or exc}); check {setting}"
        ) from None


def _redact(dsn: str) -> str:
    if "@" in dsn and "://" in dsn:
        scheme, rest = dsn.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return dsn


def up(settings: Settings, asr_workers: int) -> int:
    """Run until SIGINT/SIGTERM. Start-up errors are one line on stderr and exit code 1."""
    from ayka.secrets import ensure_secrets

    platform: Platform | None = None
    stop = [False]

    def on_signal(signum: int, _frame: object) -> None:
        stop[0] = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    # Ctrl-C stops it even where SIGINT came ignored (a shell starts background jobs so, and Python then
    # installs no handler of its own): `kill -INT` must not be a no-op for a supervisor.
    signal.signal(signal.SIGINT, on_signal)
    try:
        platform = Platform(settings)
        platform.lock.acquire()
        platform.stop_leftovers()
        settings = ensure_secrets(settings)
        platform.settings = settings
        env = platform.start_services()
        platform.plan_children(env, asr_workers)
        platform.start_children()
        ready = platform.wait_ready()
        components = ready.get("components", {})
        workers = components.get("workers", []) if isinstance(components, dict) else []
        print(
            f"AYKA is ready at http://{settings.host}:{settings.port} "
            f"({len(workers)} workers; logs in {platform.data_dir / 'logs'}). Ctrl-C stops it.",
            flush=True,
        )
        platform.supervise(stop)
        return 0
    except StartError as exc:
        print(f"ayka up: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("ayka up: stopping…", file=sys.stderr, flush=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if platform is not None:
            platform.stop()
