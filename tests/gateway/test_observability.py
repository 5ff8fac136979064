"""Structured logs never carry a secret."""

from __future__ import annotations

import json
import logging

from gateway.observability import JsonFormatter, redact

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3IifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def test_redact_every_kind_of_secret() -> None:
    text = (
        f"Authorization: Bearer {JWT} key ayka_abcdefghijklmnopqrstuv secret whsec_QUJDREVGR0hJSktMTU5P "
        "url /v1/listen?token=plain-secret-value&model=x password=hunter22 "
        '{"refresh_token": "r3fr3sh-t0ken-value"}'
    )
    cleaned = redact(text)
    for secret in [JWT, "abcdefghijklmnopqrstuv", "QUJDREVGR0hJSktMTU5P", "plain-secret-value", "hunter22",
                   "r3fr3sh-t0ken-value"]:  # fmt: skip
        assert secret not in cleaned, secret
    assert "model=x" in cleaned


def test_json_formatter_redacts_messages_and_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "ayka.test", "levelname": "INFO", "msg": "got %s", "args": ("Token ayka_0123456789abcdef",)}
    )
    record.path = f"/v1/listen?access_token={JWT}"
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["logger"] == "ayka.test" and entry["level"] == "INFO"
    assert "0123456789abcdef" not in line and JWT not in line
    assert entry["path"].startswith("/v1/listen?access_token=")


def test_sentry_only_with_dsn_and_sdk() -> None:
    import importlib.util

    from ayka.settings import Settings
    from gateway.observability import configure_sentry

    assert configure_sentry(Settings()) is False  # no DSN: never started
    with_dsn = Settings(sentry_dsn="https://key@o0.ingest.sentry.io/0")
    assert configure_sentry(with_dsn) is (importlib.util.find_spec("sentry_sdk") is not None)
