"""Shared fixtures: real nats-server, PostgreSQL and S3 server, started once per test session."""

from __future__ import annotations

import os

# Offline and quiet: no telemetry, no hub downloads (set before any library reads them).
os.environ.setdefault("CREWAI_DISABLE_TELEMETRY", "true")
os.environ.setdefault("OTEL_SDK_DISABLED", "true")
os.environ.setdefault("CREWAI_TRACING_ENABLED", "false")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytest_plugins = [
    "tests.fixtures.nats",
    "tests.fixtures.postgres",
    "tests.fixtures.s3",
    "tests.fixtures.platform",
]
