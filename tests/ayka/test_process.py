"""Child-process helpers of the embedded runtime: pid files that stop only their own process, and
children that die with their parent."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ayka.runtime.process import die_with_parent, pid_alive, stop_pid_file, write_pid_file

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and prctl")


def _gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


@linux_only
def test_a_pid_file_stops_its_process_and_is_removed(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pid_file = tmp_path / "sleeper.pid"
    write_pid_file(pid_file, proc.pid)
    assert stop_pid_file(pid_file, timeout_s=10)
    assert proc.wait(timeout=5) == -signal.SIGTERM
    assert not pid_file.exists()


@linux_only
def test_a_process_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); "
        "time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline()  # the handler is in place
    pid_file = tmp_path / "stubborn.pid"
    write_pid_file(pid_file, proc.pid)
    assert stop_pid_file(pid_file, timeout_s=0.5)
    assert proc.wait(timeout=5) == -signal.SIGKILL


@linux_only
def test_a_reused_pid_is_left_alone(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pid_file = tmp_path / "old.pid"
        pid_file.write_text(f"{proc.pid} 1\n")  # the same number, started at another time: a stranger
        assert not stop_pid_file(pid_file)
        assert proc.poll() is None and not pid_file.exists()
        pid_file.write_text("not a pid\n")
        assert not stop_pid_file(pid_file)
        assert not stop_pid_file(tmp_path / "missing.pid")
    finally:
        proc.kill()
        proc.wait()


@linux_only
def test_a_child_gets_sigterm_when_its_parent_is_killed(tmp_path: Path) -> None:
    assert die_with_parent() is not None
    # The parent starts a grandchild with die_with_parent, prints its pid, and is then SIGKILLed.
    parent_code = textwrap.dedent(
        """
        import subprocess, sys, time
        from ayka.runtime.process import die_with_parent
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                 preexec_fn=die_with_parent())
        print(child.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    grandchild = int(parent.stdout.readline())
    assert pid_alive(grandchild)
    parent.kill()
    parent.wait()
    assert _gone(grandchild), "the child outlived its SIGKILLed parent"


def test_no_parent_death_signal_from_another_thread() -> None:
    import threading

    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(die_with_parent()))
    thread.start()
    thread.join()
    assert seen == [None]
