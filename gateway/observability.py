"""Logs, metrics and error reporting: structured JSON logs with secrets redacted, Prometheus metrics,
and Sentry when ``AYKA_SENTRY_DSN`` is set (and sentry_sdk is installed)."""

from __future__ import annotations

import contextvars
import importlib.util
import logging
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from ayka import logs
from ayka.logs import JsonFormatter, redact, request_id_var
from ayka.settings import Settings

__all__ = ["JsonFormatter", "redact", "request_id_var"]  # re-exported: they live in ayka.logs

log = logging.getLogger("ayka.gateway")
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


# ---------------------------------------------------------------- logs


def configure_logging(settings: Settings) -> None:
    """JSON logs for every logger, each line once, secrets redacted (idempotent: tests build many apps)."""
    logs.configure_logging(settings.log_level)


# ---------------------------------------------------------------- errors (Sentry)

_SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "sec-websocket-protocol", "x-api-key"})


def _scrub(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """Take secrets out of an event before it leaves: credential headers, query values, log messages."""
    request = event.get("request") or {}
    headers = request.get("headers") or {}
    for name in list(headers):
        if name.lower() in _SECRET_HEADERS:
            headers[name] = "[redacted]"
    for field in ("query_string", "url"):
        if isinstance(request.get(field), str):
            request[field] = redact(request[field])
    for holder in (event.get("logentry"), event.get("message")):
        if isinstance(holder, dict):
            for key in ("message", "formatted"):
                if isinstance(holder.get(key), str):
                    holder[key] = redact(holder[key])
    if isinstance(event.get("message"), str):
        event["message"] = redact(event["message"])
    return event


def _scrub_breadcrumb(crumb: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    if isinstance(crumb.get("message"), str):
        crumb["message"] = redact(crumb["message"])
    data = crumb.get("data")
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str):
                data[key] = redact(value)
    return crumb


def configure_sentry(settings: Settings) -> bool:
    """Start Sentry when a DSN is set; True when it was started. A DSN without the SDK installed is a
    warning (install the ``sentry`` extra), not a failure."""
    if not settings.sentry_dsn:
        return False
    if importlib.util.find_spec("sentry_sdk") is None:
        log.warning("AYKA_SENTRY_DSN is set but sentry-sdk is not installed (pip install 'ayka[sentry]')")
        return False
    import sentry_sdk

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        send_default_pii=False,
        before_send=_scrub,  # type: ignore[arg-type]
        before_breadcrumb=_scrub_breadcrumb,  # type: ignore[arg-type]
    )
    return True
