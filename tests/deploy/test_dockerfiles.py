"""deploy/docker: hadolint on both Dockerfiles, their structure, and the health-check script they ship."""

from __future__ import annotations

import http.server
import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.deploy.support import AYKA_COMMANDS, DEPLOY, REPO, tool

DOCKER = DEPLOY / "docker"
DOCKERFILES = {"cpu": DOCKER / "cpu.Dockerfile", "gpu": DOCKER / "gpu.Dockerfile"}
HEALTHCHECK = DOCKER / "healthcheck.py"


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def values(self, keyword: str) -> list[str]:
        return [value for kw, value in self.instructions if kw == keyword]


def stages(path: Path) -> list[Stage]:
    """A small Dockerfile reader: instructions per stage, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    result: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, value = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = value.split()
            result.append(Stage(base=parts[0], name=parts[2] if len(parts) > 2 else ""))
        else:
            assert result, f"{path.name}: {keyword} before FROM"
            result[-1].instructions.append((keyword, value.strip()))
    return result


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_hadolint_passes(kind: str) -> None:
    proc = subprocess.run(
        [str(tool("hadolint")), "--no-color", str(DOCKERFILES[kind])],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_rejects_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM ubuntu:latest\nRUN apt-get update && apt-get install -y curl\nCMD curl example.com\n"
    )
    proc = subprocess.run(
        [str(tool("hadolint")), "--no-color", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "DL3007" in proc.stdout  # "latest" tag


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_multi_stage_pinned_non_root(kind: str) -> None:
    all_stages = stages(DOCKERFILES[kind])
    assert len(all_stages) >= 2, "multi-stage build"
    for stage in all_stages:
        _, _, tag = stage.base.partition(":")
        assert tag and tag != "latest" and re.search(r"\d", tag), f"unpinned base image {stage.base}"
    final = all_stages[-1]
    users = final.values("USER")
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "the runtime stage runs as a non-root user"
    assert json.loads(final.values("ENTRYPOINT")[-1]) == ["ayka"]
    assert tuple(json.loads(final.values("CMD")[-1])) in AYKA_COMMANDS
    # user 10001 owns nothing but /data and /tmp: every cache points into /tmp
    env = " ".join(final.values("ENV"))
    assert "HOME=/tmp" in env and "NUMBA_CACHE_DIR=/tmp/" in env and "AYKA_DATA_DIR=/data" in env
    healthcheck = final.values("HEALTHCHECK")
    assert healthcheck and "ayka-healthcheck" in healthcheck[-1]
    copies = " ".join(final.values("COPY"))
    assert "--from=build /opt/venv /opt/venv" in copies, "the runtime stage takes only the built venv"
    assert not any("pip install" in run for run in final.values("RUN")), (
        "no compilers or pip in the runtime stage"
    )


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_torch_is_pinned_and_models_are_a_build_argument(kind: str) -> None:
    text = DOCKERFILES[kind].read_text()
    assert "torch==2.13.0" in text
    assert re.search(r"pip install[^\n]*-c constraints.txt", text), (
        "installs under the repository's constraints"
    )
    assert "ARG BAKE_ASR_MODEL" in text and "/models" in text


def test_gpu_image_has_cuda_12_and_cudnn_9() -> None:
    all_stages = stages(DOCKERFILES["gpu"])
    for stage in all_stages:
        assert re.fullmatch(r"nvidia/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+", stage.base), stage.base
    text = DOCKERFILES["gpu"].read_text()
    assert re.search(r"TORCH_INDEX_URL=https://download\.pytorch\.org/whl/cu12\d", text), (
        "a CUDA 12 build of torch"
    )
    assert "AYKA_ASR_DEVICE=cuda" in text


def test_cpu_image_serves_the_web_ui() -> None:
    all_stages = stages(DOCKERFILES["cpu"])
    web = next(s for s in all_stages if s.name == "web")
    assert any("npm ci" in run for run in web.values("RUN")) and any(
        "npm run build" in r for r in web.values("RUN")
    )
    final = all_stages[-1]
    assert "--from=web /src/web/out /app/web/out" in " ".join(final.values("COPY"))
    assert "AYKA_WEB_DIR=/app/web/out" in " ".join(final.values("ENV"))


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_build_context_is_an_allowlist(kind: str) -> None:
    ignore = DOCKERFILES[kind].with_name(DOCKERFILES[kind].name + ".dockerignore")
    lines = [line for line in ignore.read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*", "everything is excluded unless listed"
    allowed = [line[1:].rstrip("/") for line in lines if line.startswith("!")]
    for path in allowed:
        if path not in {"README.md", "LICENSE"}:  # optional files
            assert (REPO / path).exists(), f"{ignore.name} allows {path}, which does not exist"
    # Every COPY from the context is inside the allowlist.
    for stage in stages(DOCKERFILES[kind]):
        for copy in stage.values("COPY"):
            if "--from=" in copy:
                continue
            for source in copy.split()[:-1]:
                if source in {".", "./"}:
                    continue
                assert any(source.rstrip("/") == a or source.startswith(a + "/") for a in allowed), source
    assert ".venv" not in allowed
    if "web" in allowed:
        assert {"web/node_modules", "web/.next", "web/out"} <= set(lines), "the web build starts clean"


# ---------------------------------------------------------------- the health-check script


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path in {"/healthz", "/metrics"} else 503
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"not ready")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run_healthcheck(*args: str, env_url: str | None = None) -> int:
    env = {"PATH": "/usr/bin:/bin"} | ({"HEALTHCHECK_URL": env_url} if env_url else {})
    proc = subprocess.run([sys.executable, str(HEALTHCHECK), *args], env=env, capture_output=True, timeout=30)
    return proc.returncode


def test_healthcheck_passes_on_2xx(http_server: str) -> None:
    assert run_healthcheck(f"{http_server}/metrics") == 0
    assert run_healthcheck(env_url=f"{http_server}/healthz") == 0


def test_healthcheck_fails_on_error_status_and_closed_port(http_server: str) -> None:
    assert run_healthcheck(f"{http_server}/readyz") == 1
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    assert run_healthcheck(f"http://127.0.0.1:{closed}/healthz") == 1
