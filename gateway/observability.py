"""Logs, metrics and error reporting: structured JSON logs with secrets redacted, Prometheus metrics,
and Sentry when ``AYKA_SENTRY_DSN`` is set (and sentry_sdk is installed)."""

from __future__ import annotations

import contextvars
import importlib.util
import json
import logging
import re
import sys
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from ayka.settings import Settings

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("ayka_request_id", default="")
# The error code of the current request, written by the error handlers into a holder the middleware
# created (a shared list, so it is seen even when a handler runs in a copied context).
error_code_var: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "ayka_error_code", default=None
)


# Headers to add to the current response (rate-limit state), written by dependencies.
response_headers_var: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "ayka_response_headers", default=None
)


def add_response_headers(headers: dict[str, str]) -> None:
    holder = response_headers_var.get()
    if holder is not None:
        holder.update(headers)


def note_error_code(code: str) -> None:
    holder = error_code_var.get()
    if holder is not None:
        holder.append(code)


# ---------------------------------------------------------------- metrics

HTTP_DURATION = Histogram(
    "ayka_http_request_duration_seconds",
    "HTTP request latency by route template, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_ERRORS = Counter("ayka_http_errors_total", "HTTP error answers by error code.", ["code"])
ACTIVE_STREAMS = Gauge("ayka_active_streams", "Live streams this gateway serves now.")
RATE_LIMITED = Counter("ayka_rate_limited_total", "Requests answered 429 by the rate limiter.", ["kind"])


def metrics_payload() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST


# ---------------------------------------------------------------- redaction

_REDACTIONS = [
    # Authorization headers and their schemes.
    (re.compile(r"(?i)\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [redacted]"),
    # Our API keys and webhook secrets wherever they appear.
    (re.compile(r"ayka_[A-Za-z0-9_-]{8,}"), "ayka_[redacted]"),
    (re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"), "whsec_[redacted]"),
    # JWTs (three base64url parts).
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "[redacted-jwt]"),
    # Query strings and JSON fields that carry secrets.
    (
        re.compile(
            r"(?i)((?:access_token|refresh_token|token|password|secret|sig|api_key|key)[\"']?\s*[=:]\s*[\"']?)"
            r"[^&\s\"',}]+"
        ),
        r"\1[redacted]",
    ),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extra fields; redacted."""

    _RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in self._RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str))


def configure_logging(settings: Settings) -> None:
    """JSON logs on stderr for the ``ayka`` loggers (idempotent: tests build many apps)."""
    logger = logging.getLogger("ayka")
    logger.setLevel(settings.log_level)
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = True


def configure_sentry(settings: Settings) -> bool:
    """Start Sentry when a DSN is set and sentry_sdk is importable; True when it was started."""
    if not settings.sentry_dsn or importlib.util.find_spec("sentry_sdk") is None:
        return False
    import sentry_sdk

    def _scrub(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
        request = event.get("request") or {}
        headers = request.get("headers") or {}
        for name in list(headers):
            if name.lower() in {"authorization", "cookie", "sec-websocket-protocol"}:
                headers[name] = "[redacted]"
        if isinstance(request.get("query_string"), str):
            request["query_string"] = redact(request["query_string"])
        return event

    sentry_sdk.init(dsn=settings.sentry_dsn, send_default_pii=False, before_send=_scrub)
    return True
