"""``/healthz`` (the process is alive) and ``/readyz`` (every component, and 503 until all are ready)."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ayka.connect import list_workers
from gateway.state import GatewayState

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check(coro: Any, timeout_s: float = 2.0) -> dict[str, Any]:
    try:
        detail = await asyncio.wait_for(coro, timeout_s)
    except Exception as exc:
        return {"state": "down", "error": f"{exc.__class__.__name__}: {exc}"[:200]}
    return {"state": "ready", **(detail or {})}


async def _postgres(state: GatewayState) -> dict[str, Any]:
    async with state.pool.acquire() as conn:
        await conn.fetchval("SELECT 1")
    return {"pool_size": state.pool.get_size(), "pool_idle": state.pool.get_idle_size()}


async def _nats(state: GatewayState) -> dict[str, Any]:
    if not state.nc.is_connected:
        raise ConnectionError("not connected")
    await state.nc.flush(timeout=1)
    return {"url": state.nc.connected_url.netloc if state.nc.connected_url else ""}


async def _archive(state: GatewayState) -> dict[str, Any]:
    await state.archive.check()
    return {"url": state.settings.archive_url}


@router.get(
    "/readyz",
    responses={
        200: {"description": "every component is ready"},
        503: {"description": "something is not ready"},
    },
)
async def readyz(request: Request, scope: Literal["platform", "self"] = "platform") -> JSONResponse:
    """``scope=platform`` (default): every component and at least one live worker of each kind in
    ``AYKA_REQUIRED_WORKERS`` (``ayka up``: every kind it starts).
    ``scope=self``: only this gateway's own dependencies (for a load balancer's probe, so that gateways
    keep serving the API while the ASR pool scales from zero)."""
    state: GatewayState | None = getattr(request.app.state, "gateway", None)
    if state is None:
        return JSONResponse({"status": "starting", "components": {}}, status_code=503)
    components: dict[str, Any] = {
        "nats": await _check(_nats(state)),
        "postgres": await _check(_postgres(state)),
        "archive": await _check(_archive(state)),
        "diarize_backend": state.settings.diarize_backend.value,
    }
    workers: list[dict[str, Any]] = []
    if components["nats"]["state"] == "ready":
        now = time.time()
        for info in await list_workers(state.js):
            workers.append(
                {
                    "kind": info.kind.value,
                    "id": info.worker_id,
                    "pid": info.pid,
                    "host": info.host,
                    "state": "ready",
                    "capacity": info.capacity,
                    "sessions": info.sessions,
                    "model": info.model,
                    "device": info.device,
                    "seen_s_ago": round(now - info.updated_at, 1),
                }
            )
    components["workers"] = workers
    missing: list[str] = []
    if scope == "platform":
        # One entry per required kind (AYKA_REQUIRED_WORKERS), so a kind with no live worker is named.
        kinds: dict[str, Any] = {}
        for kind in state.settings.required_workers:
            count = sum(1 for w in workers if w["kind"] == kind.value)
            if count:
                kinds[kind.value] = {"state": "ready", "workers": count}
            else:
                kinds[kind.value] = {"state": "down", "error": f"no live {kind.value} worker"}
                missing.append(kind.value)
        components["worker_kinds"] = kinds
    ready = all(components[c]["state"] == "ready" for c in ("nats", "postgres", "archive")) and not missing
    body: dict[str, Any] = {"status": "ready" if ready else "not_ready", "components": components}
    if missing:
        body["missing_workers"] = missing
    return JSONResponse(body, status_code=200 if ready else 503)
