"""``/readyz``: 503 while anything is not ready, naming each component and each missing worker kind."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ayka import bus
from ayka.connect import Heartbeat, close_nats, connect_nats
from ayka.runtime.nats import EmbeddedNats
from ayka.runtime.process import free_port
from ayka.settings import Settings
from gateway import health
from gateway.state import GatewayState
from persistence.archive import open_archive
from persistence.db import create_pool

EVERY_KIND = list(bus.WorkerKind)


@pytest.fixture(scope="module")
def own_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A nats-server of this module's own, so that only the heartbeats these tests send are listed."""
    server = EmbeddedNats(Path(tmp_path_factory.mktemp("health-nats")))
    try:
        yield server.start()
    finally:
        server.stop()


def _settings(tmp_path: Path, nats_url: str, database_url: str, **overrides: Any) -> Settings:
    return Settings(data_dir=tmp_path, nats_url=nats_url, database_url=database_url, **overrides)


@pytest.fixture
async def heartbeats(own_nats: str) -> AsyncIterator[dict[bus.WorkerKind, Heartbeat]]:
    nc = await connect_nats(own_nats, "test-health")
    beats: dict[bus.WorkerKind, Heartbeat] = {}
    try:
        for kind in EVERY_KIND:
            info = bus.WorkerInfo(kind=kind, worker_id=f"{kind.value}-test", pid=os.getpid(), host="test")
            beats[kind] = Heartbeat(nc, info)
            await beats[kind].beat()
        yield beats
    finally:
        for beat in beats.values():
            await beat.stop()  # removes its entry
        await close_nats(nc)


async def _readyz(settings: Settings, *, dead_database: bool = False, **params: str) -> httpx.Response:
    nc = await connect_nats(settings.nats_url, "test-health-gateway")
    # min_size=0 opens no connection up front: an unreachable server shows on the first acquire.
    dsn = f"postgresql://u:p@127.0.0.1:{free_port()}/db" if dead_database else settings.database_url
    pool = await create_pool(dsn, min_size=0, max_size=2)
    app = FastAPI()
    app.include_router(health.router)
    app.state.gateway = GatewayState(
        settings=settings, nc=nc, js=nc.jetstream(), pool=pool, archive=open_archive(settings)
    )
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            return await client.get("/readyz", params=params)
    finally:
        await pool.close()
        await close_nats(nc)


async def test_ready_when_every_required_kind_has_a_live_worker(
    tmp_path: Path, own_nats: str, database_url: str, heartbeats: dict[bus.WorkerKind, Heartbeat]
) -> None:
    response = await _readyz(_settings(tmp_path, own_nats, database_url, required_workers=EVERY_KIND))
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready" and "missing_workers" not in body
    assert body["components"]["worker_kinds"] == {
        k.value: {"state": "ready", "workers": 1} for k in EVERY_KIND
    }


async def test_a_missing_worker_kind_is_named_and_makes_it_503(
    tmp_path: Path, own_nats: str, database_url: str, heartbeats: dict[bus.WorkerKind, Heartbeat]
) -> None:
    await heartbeats[bus.WorkerKind.WEBHOOKS].stop()
    settings = _settings(tmp_path, own_nats, database_url, required_workers=EVERY_KIND)
    response = await _readyz(settings)
    body = response.json()
    assert response.status_code == 503, body
    assert body["status"] == "not_ready"
    assert body["missing_workers"] == ["webhooks"]
    kinds = body["components"]["worker_kinds"]
    assert kinds["webhooks"]["state"] == "down" and "webhooks" in kinds["webhooks"]["error"]
    assert all(kinds[k.value]["state"] == "ready" for k in EVERY_KIND if k is not bus.WorkerKind.WEBHOOKS)
    # Only what is required counts, and scope=self ignores workers altogether.
    fewer = settings.model_copy(update={"required_workers": [bus.WorkerKind.ASR, bus.WorkerKind.RECORDER]})
    assert (await _readyz(fewer)).status_code == 200
    assert (await _readyz(settings, scope="self")).status_code == 200


async def test_an_unreachable_database_makes_it_503_naming_postgres(
    tmp_path: Path, own_nats: str, database_url: str, heartbeats: dict[bus.WorkerKind, Heartbeat]
) -> None:
    settings = _settings(tmp_path, own_nats, database_url, required_workers=EVERY_KIND)
    for scope in ("platform", "self"):
        response = await _readyz(settings, dead_database=True, scope=scope)
        body = response.json()
        assert response.status_code == 503, body
        assert body["components"]["postgres"]["state"] == "down"
        assert body["components"]["postgres"]["error"]
        assert body["components"]["nats"]["state"] == "ready"
        assert "p@" not in body["components"]["postgres"]["error"]  # no credentials in the answer
