"""Around every request: body limits, error shape, request ids, security headers, CORS and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from tests.gateway.api.fixtures import api, app, client, make_settings, running, signup

__all__ = ["api", "app", "client"]


async def test_oversized_bodies_are_refused_early(client: httpx.AsyncClient) -> None:
    big = b'{"email": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    declared = await client.post("/v1/auth/login", content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "payload_too_large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"x" * 65536

    streamed = await client.post(
        "/v1/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_bad_json_and_types_are_422(client: httpx.AsyncClient) -> None:
    malformed = await client.post(
        "/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 422
    error = malformed.json()["error"]
    assert error["code"] == "validation_error" and error["details"][0]["loc"]
    wrong_type = await client.post("/v1/auth/login", json={"email": ["a"], "password": 5})
    assert wrong_type.status_code == 422
    assert {tuple(d["loc"]) for d in wrong_type.json()["error"]["details"]} == {
        ("body", "email"),
        ("body", "password"),
    }


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    method = await client.put("/v1/sessions")
    assert method.status_code == 405 and method.json()["error"]["code"] == "method_not_allowed"


async def test_request_id_and_security_headers(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/v1/users/me", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    made = await client.get("/v1/users/me", headers={"X-Request-ID": "bad id with spaces"})
    assert len(made.headers["x-request-id"]) == 32
    assert made.headers["x-content-type-options"] == "nosniff"
    assert made.headers["x-frame-options"] == "DENY"
    assert made.headers["content-security-policy"].startswith("default-src 'none'")
    assert made.headers["cache-control"] == "no-store"


async def test_metrics_by_route_and_error_code(client: httpx.AsyncClient) -> None:
    person = await signup(client, "metrics")
    await client.get("/v1/sessions/does-not-exist", headers=person.headers)
    text = (await client.get("/metrics")).text
    assert (
        'ayka_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/v1/sessions/{session_id}",status="404"}'
        in text
    )
    assert 'ayka_http_errors_total{code="not_found"}' in text
    assert "ayka_active_streams" in text


async def test_unexpected_errors_are_500_json(
    tmp_path: Path, database_url: str, nats_url: str, nc: Any
) -> None:
    settings = make_settings(tmp_path, database_url, nats_url)
    async with running(settings) as (the_app, _client):

        async def boom() -> None:
            raise RuntimeError("kaput")

        the_app.add_api_route("/v1/test-boom", boom)
        the_app.router.routes.insert(0, the_app.router.routes.pop())  # before the web UI's catch-all mount
        transport = httpx.ASGITransport(app=the_app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as raw:
            response = await raw.get("/v1/test-boom")
        assert response.status_code == 500
        assert response.json() == {
            "error": {
                "code": "internal_error",
                "message": "Something went wrong on our side; it has been logged.",
            }
        }


async def test_cors_from_settings(tmp_path: Path, database_url: str, nats_url: str, nc: Any) -> None:
    settings = make_settings(tmp_path, database_url, nats_url, cors_origins="https://app.example.com")
    async with running(settings) as (_, client):
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        }
        allowed = await client.options(
            "/v1/auth/login", headers={"Origin": "https://app.example.com", **preflight}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        other = await client.options(
            "/v1/auth/login", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in other.headers
        simple = await client.get("/v1/users/me", headers={"Origin": "https://app.example.com"})
        assert "RateLimit" in simple.headers["access-control-expose-headers"] or simple.status_code == 401


def test_app_without_api_is_not_possible() -> None:
    # The app factory includes the API: FastAPI's own /docs and the OpenAPI document exist.
    from ayka.settings import Settings
    from gateway.app import create_app

    made: FastAPI = create_app(Settings(jwt_secret="x" * 32), web_dir=None)
    paths = made.openapi()["paths"]
    assert "/v1/auth/signup" in paths and "/v1/webhooks/{webhook_id}/replay" in paths
