"""The gateway's FastAPI application: wiring only. Routes live in gateway/api (REST) and gateway/listen."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ayka.settings import Settings
from gateway import health, listen
from gateway.api import api_router, install
from gateway.api.erasure import purge_expired_audio
from gateway.api.ingest_upload import wait_for_ingests
from gateway.state import GatewayState

log = logging.getLogger("ayka.gateway")

WEB_OUT = Path(__file__).resolve().parent.parent / "web" / "out"


RETENTION_EVERY_S = 3600.0


async def _retention_loop(state: GatewayState) -> None:
    """Delete archived audio older than AYKA_RETENTION_DAYS, hourly (every gateway may run it: the
    deletions are idempotent)."""
    while state.settings.retention_days > 0:
        try:
            purged = await purge_expired_audio(state)
            if purged:
                log.info("retention: removed the audio of %d sessions", purged)
        except Exception:
            log.exception("retention run failed")
        await asyncio.sleep(RETENTION_EVERY_S)


def create_app(settings: Settings, *, web_dir: Path | None = None) -> FastAPI:
    """Build the app. Connections (NATS, Postgres, archive) open in the lifespan and live on
    ``app.state.gateway`` (a ``GatewayState``)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await GatewayState.open(settings)
        app.state.gateway = state
        retention = asyncio.create_task(_retention_loop(state), name="retention")
        try:
            yield
        finally:
            retention.cancel()
            await wait_for_ingests(timeout_s=30)  # uploads being published finish before the bus closes
            await state.close()

    app = FastAPI(
        title="AYKA",
        version="0.1.0",
        summary="Real-time transcription: Deepgram-compatible live streaming, transcripts, leads, webhooks.",
        lifespan=lifespan,
    )
    app.state.settings = settings

    app.include_router(health.router)
    app.include_router(listen.router)

    install(app, settings)
    app.include_router(api_router)

    web_dir = web_dir or settings.web_dir or WEB_OUT
    if (web_dir / "index.html").exists():
        app.mount("/", StaticFiles(directory=web_dir, html=True), name="web")
    return app
