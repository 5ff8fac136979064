"""Fixtures for the API tests: the real gateway app (``create_app``) against the real NATS, PostgreSQL
and archive, driven in process through httpx's ASGI transport; helpers to sign people up."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ayka.settings import Settings
from gateway.app import create_app

PASSWORD = "correct horse battery staple"


@dataclass
class Person:
    """A signed-up person and their credentials."""

    id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def make_settings(tmp: Path, database_url: str, nats_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp,
        "nats_url": nats_url,
        "database_url": database_url,
        "archive_url": (tmp / "archive").as_uri(),
        "jwt_secret": "test-jwt-secret-" + uuid.uuid4().hex,
        "url_signing_secret": "test-url-secret-" + uuid.uuid4().hex,
        "rate_limit_per_minute": 100_000,
        "asr_workers": 0,
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def running(
    settings: Settings, client_address: str = "203.0.113.7"
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with its lifespan (connections open) and a client that talks to it in process."""
    app = create_app(settings, web_dir=None)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(client_address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


@pytest.fixture(scope="session")
async def api(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, nats_url: str, nc: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """One app for most API tests (``nc`` makes sure every stream and KV bucket exists)."""
    settings = make_settings(tmp_path_factory.mktemp("api"), database_url, nats_url)
    async with running(settings) as pair:
        yield pair


@pytest.fixture
def app(api: tuple[FastAPI, httpx.AsyncClient]) -> FastAPI:
    return api[0]


@pytest.fixture
def client(api: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return api[1]


async def signup(client: httpx.AsyncClient, name: str = "") -> Person:
    email = f"{name or 'person'}-{uuid.uuid4().hex[:10]}@example.com"
    response = await client.post("/v1/auth/signup", json={"email": email, "password": PASSWORD, "name": name})
    assert response.status_code == 201, response.text
    tokens = response.json()
    me = await client.get("/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200, me.text
    return Person(me.json()["id"], email, tokens["access_token"], tokens["refresh_token"])
