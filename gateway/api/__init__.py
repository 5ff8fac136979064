"""The REST API: ``api_router`` (one router per resource) and ``install`` (errors, CORS, security
headers, body limits, request ids, JSON logs, metrics, Sentry)."""

from __future__ import annotations

import time

from fastapi import APIRouter, FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware

from ayka.settings import Settings
from gateway.api.routes import (
    api_keys,
    archive,
    auth,
    events,
    leads,
    notifications,
    recordings,
    sessions,
    users,
    webhooks,
)
from gateway.errors import install_error_handlers
from gateway.middleware import GatewayMiddleware
from gateway.observability import configure_logging, configure_sentry, metrics_payload

api_router = APIRouter()
for _module in (auth, users, api_keys, sessions, recordings, leads, events, notifications, webhooks, archive):
    api_router.include_router(_module.router)

EXPOSED_HEADERS = ["X-Request-ID", "RateLimit", "RateLimit-Policy", "Retry-After", "Content-Disposition"]


async def metrics() -> Response:
    payload, content_type = metrics_payload()
    return Response(payload, media_type=content_type)


def install(app: FastAPI, settings: Settings) -> None:
    """Everything around the routes. Call once per app, before serving."""
    configure_logging(settings)
    configure_sentry(settings)
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
        )
    app.add_middleware(GatewayMiddleware, settings=settings)  # outermost: sees every request
    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    if not hasattr(app.state, "clock"):
        app.state.clock = time.time
