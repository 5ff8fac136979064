"""The images' commands are real `ayka` commands: every one that compose, Kubernetes and the Dockerfiles run
parses with the CLI the test suite runs (`ayka <command> --help` exits 0 without starting anything)."""

from __future__ import annotations

import subprocess

import pytest

from tests.deploy.support import AYKA_COMMANDS, VENV_BIN


@pytest.mark.parametrize("command", sorted(AYKA_COMMANDS), ids=" ".join)
def test_command_exists(command: tuple[str, ...]) -> None:
    proc = subprocess.run(
        [str(VENV_BIN / "ayka"), *command, "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: ayka {command[0]} ")


def test_workers_take_the_metrics_port() -> None:
    proc = subprocess.run(
        [str(VENV_BIN / "ayka"), "worker", "asr", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "--metrics-port" in proc.stdout


def test_an_unknown_command_is_refused() -> None:
    proc = subprocess.run(
        [str(VENV_BIN / "ayka"), "worker", "archiver"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
