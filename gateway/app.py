"""The gateway's FastAPI application: wiring only. Routes live in gateway/api (REST) and gateway/listen."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ayka.settings import Settings
from gateway.state import GatewayState

log = logging.getLogger("ayka.gateway")

WEB_OUT = Path(__file__).resolve().parent.parent / "web" / "out"


def create_app(settings: Settings, *, web_dir: Path | None = None) -> FastAPI:
    """Build the app. Connections (NATS, Postgres, archive) open in the lifespan and live on
    ``app.state.gateway`` (a ``GatewayState``)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await GatewayState.open(settings)
        app.state.gateway = state
        try:
            yield
        finally:
            await state.close()

    app = FastAPI(
        title="AYKA",
        version="0.1.0",
        summary="Real-time transcription: Deepgram-compatible live streaming, transcripts, leads, webhooks.",
        lifespan=lifespan,
    )
    app.state.settings = settings

    from gateway import health, listen

    app.include_router(health.router)
    app.include_router(listen.router)

    with contextlib.suppress(ImportError):  # the REST API lands separately
        from gateway.api import api_router, install

        install(app, settings)
        app.include_router(api_router)

    web_dir = web_dir or settings.web_dir or WEB_OUT
    if (web_dir / "index.html").exists():
        app.mount("/", StaticFiles(directory=web_dir, html=True), name="web")
    return app
