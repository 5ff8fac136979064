"""Structured logs for every AYKA process: one JSON object per line, once, with secrets redacted.

``configure_logging`` puts one JSON handler on the root logger, so every library's records (uvicorn's
included) come out in the same format through the same redaction; nothing else adds handlers.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from typing import Any, TextIO

# The id of the HTTP request being served (set by the gateway's middleware), added to each line.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("ayka_request_id", default="")

# Loggers that are chatty at INFO and say nothing an operator needs there.
QUIET_LOGGERS = ("httpx", "httpcore", "botocore", "urllib3", "faster_whisper")
# Loggers that would otherwise carry handlers (and formats) of their own: they propagate to the root.
_OWN_HANDLERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "ayka")

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

    _RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "color_message"}

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
        # Redact the values, not the serialized line: a pattern must never eat a JSON escape or quote.
        return json.dumps(_redacted(entry), default=lambda value: redact(str(value)))


_SECRET_FIELDS = frozenset(
    {"access_token", "refresh_token", "token", "password", "secret", "sig", "api_key", "key", "authorization"}
)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            key: "[redacted]" if str(key).lower() in _SECRET_FIELDS and item else _redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


class JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root's JSON handler (a class of its own, so that configuring twice finds it). Without a stream
    it writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream or sys.stderr)
        self.follow_stderr = stream is None
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        if self.follow_stderr:
            self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """JSON lines on ``stream`` (default stderr) for every logger. Idempotent: a second call changes the
    level (and the stream, when one is given) of the one handler."""
    root = logging.getLogger()
    root.setLevel(level)
    handler = next((h for h in root.handlers if isinstance(h, JsonHandler)), None)
    if handler is None:
        root.addHandler(JsonHandler(stream))
    elif stream is not None:
        handler.follow_stderr = False
        handler.setStream(stream)
    for name in _OWN_HANDLERS:
        logger = logging.getLogger(name)
        for own in [h for h in logger.handlers if not isinstance(h, logging.NullHandler)]:
            logger.removeHandler(own)
        logger.propagate = True
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
