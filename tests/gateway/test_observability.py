"""Structured logs never carry a secret."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from ayka.runtime.process import free_port, wait_for_port
from ayka.settings import Settings
from gateway import observability
from gateway.observability import JsonFormatter, configure_sentry, redact

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


# A DSN on a closed local port: nothing may ever be sent anywhere else.
LOCAL_DSN = f"http://publickey@127.0.0.1:{free_port()}/1"


def test_sentry_starts_only_with_a_dsn_and_passes_it_and_the_scrubbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sentry_sdk

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(sentry_sdk, "init", lambda **kwargs: calls.append(kwargs))
    assert configure_sentry(Settings()) is False  # no DSN: never started
    assert calls == []
    assert configure_sentry(Settings(sentry_dsn=LOCAL_DSN)) is True
    (kwargs,) = calls
    assert kwargs["dsn"] == LOCAL_DSN and kwargs["send_default_pii"] is False
    assert kwargs["before_send"] is observability._scrub
    assert kwargs["before_breadcrumb"] is observability._scrub_breadcrumb


def test_a_dsn_without_the_sdk_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "sentry_sdk" else real(name, *a),
    )
    with caplog.at_level(logging.WARNING):
        assert configure_sentry(Settings(sentry_dsn=LOCAL_DSN)) is False
    assert any("AYKA_SENTRY_DSN" in r.getMessage() and "sentry" in r.getMessage() for r in caplog.records)


def test_the_real_sdk_takes_the_dsn() -> None:
    """In a process of its own (init patches FastAPI and logging for good); no event is sent."""
    code = (
        "import sentry_sdk\n"
        "from ayka.settings import Settings\n"
        "from gateway.observability import configure_sentry\n"
        f"assert configure_sentry(Settings(sentry_dsn={LOCAL_DSN!r}))\n"
        "client = sentry_sdk.get_client()\n"
        "print(client.is_active(), client.dsn)\n"
        "client.close(timeout=0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", LOCAL_DSN]


def test_the_scrubber_takes_secrets_out_of_events() -> None:
    event: dict[str, Any] = {
        "request": {
            "url": f"https://ayka.example/v1/listen?token={JWT}",
            "query_string": "token=ayka_0123456789abcdef&model=nova",
            "headers": {
                "Authorization": "Token ayka_0123456789abcdef",
                "Cookie": "session=abc",
                "Sec-WebSocket-Protocol": "token, ayka_0123456789abcdef",
                "User-Agent": "tests",
            },
        },
        "logentry": {"message": "refresh with refresh_token=r3fr3sh-t0ken-value", "params": []},
    }
    scrubbed = observability._scrub(event, {})
    text = json.dumps(scrubbed)
    for secret in ("0123456789abcdef", JWT, "abc", "r3fr3sh-t0ken-value"):
        assert f"{secret}" not in text.replace("[redacted", ""), secret
    headers = scrubbed["request"]["headers"]
    assert headers["Authorization"] == headers["Cookie"] == "[redacted]"
    assert headers["User-Agent"] == "tests"
    assert "model=nova" in scrubbed["request"]["query_string"]
    crumb = observability._scrub_breadcrumb(
        {"message": "GET /x?sig=abcdef0123456", "data": {"url": "/y?token=plain-secret-value"}}, {}
    )
    assert "abcdef0123456" not in json.dumps(crumb) and "plain-secret-value" not in json.dumps(crumb)


API_KEY_SECRET = "ayka_" + "s3cr3tKeyThatMustNotLeak" * 2
SIG_SECRET = "SigValueThatMustNotLeak0123456789"


def test_the_gateway_process_logs_json_lines_once_with_no_secret(
    tmp_path: Path, nats_url: str, database_url: str
) -> None:
    """`ayka gateway` as deployed: uvicorn's own lines (WebSocket handshakes carry ``?token=``) and the
    access log come out as JSON through the same redaction, each once."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AYKA_")}
    env |= {
        "AYKA_DATA_DIR": str(tmp_path / "data"),
        "AYKA_PORT": str(port),
        "AYKA_NATS_URL": nats_url,
        "AYKA_DATABASE_URL": database_url,
        "AYKA_DIARIZE_BACKEND": "off",
    }
    log_path = tmp_path / "gateway.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ayka", "gateway"], env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port("127.0.0.1", port, 60, proc)  # type: ignore[arg-type]
        me = httpx.get(
            f"{base}/v1/users/me", params={"token": API_KEY_SECRET}, headers={"X-Request-Id": "log-test-1"}
        )
        assert me.status_code == 401, me.text
        httpx.get(f"{base}/v1/recordings/x/audio", params={"sig": SIG_SECRET, "exp": "1"})
        with (
            contextlib.suppress(Exception),
            ws_connect(f"ws://127.0.0.1:{port}/v1/listen?token={API_KEY_SECRET}") as ws,
        ):
            ws.recv(timeout=5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    text = log_path.read_text()
    assert API_KEY_SECRET[5:] not in text and SIG_SECRET not in text, text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    assert lines and all({"ts", "level", "logger", "msg"} <= set(line) for line in lines)
    access = [line for line in lines if line.get("request_id") == "log-test-1"]
    assert len(access) == 1, access  # once: no second, plain-text copy
    assert access[0]["logger"] == "ayka.gateway.access" and access[0]["status"] == 401
    handshakes = [line for line in lines if "WebSocket /v1/listen" in line["msg"]]
    assert handshakes and all(line["logger"].startswith("uvicorn") for line in handshakes), lines
    assert any("Uvicorn running" in line["msg"] for line in lines)  # uvicorn's start-up, as JSON too


def test_json_formatter_redacts_secret_fields_and_keeps_the_line_valid_json() -> None:
    record = logging.makeLogRecord(
        {"name": "uvicorn.error", "levelname": "INFO", "msg": '"WebSocket %s" [accepted]', "args": ()}
    )
    record.msg = record.msg % "/v1/listen?token=ayka_0123456789abcdef&sig=abcdef0123"
    record.password = "hunter22"
    record.detail = {"refresh_token": "r3fr3sh-t0ken-value", "nested": ["Bearer abcdefghijkl"]}
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    for secret in ("0123456789abcdef", "abcdef0123", "hunter22", "r3fr3sh-t0ken-value", "abcdefghijkl"):
        assert secret not in line, secret
    assert entry["msg"].startswith('"WebSocket /v1/listen?token=') and entry["msg"].endswith("[accepted]")
