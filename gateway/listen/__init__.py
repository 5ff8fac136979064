"""Live streaming: ``WS /v1/listen`` (Deepgram's protocol) and ``POST /v1/webrtc/offer``."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.listen import webrtc, websocket

router = APIRouter()
router.include_router(websocket.router)
router.include_router(webrtc.router)
