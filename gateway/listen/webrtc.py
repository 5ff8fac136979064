"""``POST /v1/webrtc/offer``: the same live pipeline over WebRTC (aiortc).

The client sends an SDP offer with one audio track (Opus, 48 kHz) and a data channel named ``results``;
the answer comes back in the response. Audio feeds a LiveStream exactly as WebSocket audio does; results
travel as the same JSON messages on the data channel, and the client sends ``KeepAlive``, ``Finalize`` and
``CloseStream`` on it as text.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import aioice.ice
import av
import numpy as np
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway.audio import Encoding, RawDecoder
from gateway.auth import AuthError, authenticate
from gateway.listen.protocol import CloseCode, Control, ProtocolError, parse_control, parse_params
from gateway.listen.session import Closed, LiveStream, StreamState, dumps
from gateway.ratelimit import TooManyStreams, acquire_stream_slot
from gateway.state import GatewayState

log = logging.getLogger("ayka.webrtc")

router = APIRouter(tags=["live"])

RESULTS_CHANNEL = "results"
PEERS: set[RTCPeerConnection] = set()


class WebRTCOffer(BaseModel):
    sdp: str = Field(max_length=100_000)
    type: str = Field("offer", pattern="^offer$")
    options: dict[str, str] = Field(default_factory=dict, description="the /v1/listen query parameters")


class WebRTCAnswer(BaseModel):
    sdp: str
    type: str
    session_id: str


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _pin_host_addresses(addresses: list[str]) -> None:
    """aioice gathers candidates on every interface but loopback; pin them when settings say so."""
    if addresses:
        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(addresses)


class WebRTCSession:
    """One peer connection driving one LiveStream."""

    def __init__(self, state: GatewayState, owner_id: str, options: dict[str, str]) -> None:
        self.state = state
        self.owner_id = owner_id
        params = parse_params(
            {k: v for k, v in options.items() if k not in {"encoding", "sample_rate", "channels"}}
        )
        params.encoding = Encoding.LINEAR16
        params.sample_rate = 48000
        self.params = params
        ice = [RTCIceServer(urls=url) for url in state.settings.webrtc_ice_servers]
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=ice))
        self.channel: Any = None
        self.pending: list[str] = []
        self.stream = LiveStream(
            state, owner_id, params, self._send, decoder=RawDecoder(Encoding.LINEAR16, 48000, 1)
        )
        self.done = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    async def _send(self, message: dict[str, Any]) -> None:
        text = dumps(message)
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(text)
        else:
            self.pending.append(text)

    def _flush_pending(self) -> None:
        while self.pending and self.channel is not None and self.channel.readyState == "open":
            self.channel.send(self.pending.pop(0))

    async def start(self, offer: WebRTCOffer) -> RTCSessionDescription:
        @self.pc.on("datachannel")
        def on_datachannel(channel: Any) -> None:
            if channel.label != RESULTS_CHANNEL:
                return
            self.channel = channel

            @channel.on("open")  # type: ignore[untyped-decorator]
            def on_open() -> None:
                self._flush_pending()

            @channel.on("message")  # type: ignore[untyped-decorator]
            def on_message(message: object) -> None:
                if isinstance(message, str):
                    self.tasks.append(asyncio.ensure_future(self._control(message)))

            if channel.readyState == "open":
                self._flush_pending()

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self.tasks.append(asyncio.ensure_future(self._pump(track)))

        @self.pc.on("connectionstatechange")
        async def on_state() -> None:
            if self.pc.connectionState in ("failed", "closed"):
                await self.close(detach=True)

        kinds = {
            line.split()[0][2:] for line in offer.sdp.splitlines() if line.startswith("m=") and line.split()
        }
        if "audio" not in kinds:
            raise ValueError("the offer has no audio track (m=audio)")
        if "application" not in kinds:
            raise ValueError(f"the offer has no data channel (create one named {RESULTS_CHANNEL!r})")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer.sdp, type=offer.type))
        await self.stream.open()
        self.tasks.append(asyncio.ensure_future(self._watch_idle()))
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        return self.pc.localDescription

    async def _pump(self, track: MediaStreamTrack) -> None:
        """Decoded Opus frames (48 kHz) into the stream as mono PCM16."""
        while not self.done.is_set():
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.AudioFrame):
                continue
            samples = frame.to_ndarray()
            channels = len(frame.layout.channels)
            if samples.dtype != np.int16:
                samples = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
            mono = (
                samples.reshape(-1, channels).mean(axis=1).astype("<i2")
                if channels > 1
                else samples.reshape(-1)
            )
            try:
                await self.stream.audio(mono.tobytes())
            except (ProtocolError, Closed) as exc:
                await self._send({"type": "Error", "code": str(int(exc.code)), "message": exc.reason})
                await self.close(detach=isinstance(exc, Closed) and exc.keep_session)
                return

    async def _watch_idle(self) -> None:
        """The WebSocket's idle timeout (NET-0001): no audio and no control message for
        ``idle_timeout_s`` (a peer that stopped sending RTP) ends the stream, flushed."""
        timeout_s = self.state.settings.idle_timeout_s
        while not self.done.is_set():
            remaining = timeout_s - (time.monotonic() - self.stream.last_activity)
            if remaining <= 0:
                reason = f"NET-0001: no audio or KeepAlive received for {timeout_s:.0f} s"
                await self._send({"type": "Error", "code": str(int(CloseCode.INTERNAL)), "message": reason})
                await self.close(detach=False)
                return
            await asyncio.sleep(min(remaining, 1.0))

    async def _control(self, text: str) -> None:
        try:
            control = parse_control(text)
            if await self.stream.control(control) and control is Control.CLOSE_STREAM:
                await self.close(detach=False)
        except (ProtocolError, Closed) as exc:
            await self._send({"type": "Error", "code": str(int(exc.code)), "message": exc.reason})

    async def close(self, *, detach: bool) -> None:
        """End the peer connection; ``detach`` keeps the session for a resume, otherwise it is flushed
        (the closing Metadata goes out on the channel first)."""
        if self.done.is_set():
            return
        self.done.set()
        with contextlib.suppress(Exception):
            if detach:
                await self.stream.detach()
            elif self.stream.status in (StreamState.STREAMING, StreamState.CLOSING):  # opened: flush it
                await self.stream.finish()
                self._flush_pending()
                await asyncio.sleep(0.2)  # let the last messages leave before the channel closes
        with contextlib.suppress(Exception):
            await self.pc.close()
        PEERS.discard(self.pc)


_OFFER_ERRORS: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 422: {}, 429: {}, 503: {}}


@router.post("/v1/webrtc/offer", response_model=WebRTCAnswer, responses=_OFFER_ERRORS)
async def webrtc_offer(offer: WebRTCOffer, request: Request) -> JSONResponse:
    """Exchange SDP: the audio track is transcribed; results arrive on the ``results`` data channel."""
    state: GatewayState = request.app.state.gateway
    _pin_host_addresses(state.settings.webrtc_host_addresses)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in {"token", "bearer"}:
        token = request.query_params.get("token", "")
    try:
        principal = await authenticate(state, token)
    except AuthError as exc:
        return _error(401, exc.code, exc.message)
    if not principal.has("listen"):
        return _error(403, "forbidden", "this credential lacks the listen scope")
    try:
        session = WebRTCSession(state, principal.owner_id, offer.options)
    except ProtocolError as exc:
        return _error(422, "bad_parameter", exc.reason)
    slot = acquire_stream_slot(state, principal.owner_id)
    try:
        await slot.__aenter__()
    except TooManyStreams as exc:
        return _error(429, exc.code, exc.message)
    try:
        answer = await session.start(offer)
    except (ProtocolError, Closed) as exc:
        await slot.__aexit__(None, None, None)
        await session.close(detach=False)
        status = 503 if isinstance(exc, Closed) else 422
        return _error(status, "unavailable" if status == 503 else "bad_parameter", exc.reason)
    except ValueError as exc:
        await slot.__aexit__(None, None, None)
        await session.close(detach=False)
        return _error(422, "bad_sdp", f"the SDP offer was refused: {exc}")
    PEERS.add(session.pc)

    async def release_slot() -> None:
        await session.done.wait()
        await slot.__aexit__(None, None, None)

    session.tasks.append(asyncio.ensure_future(release_slot()))
    body = WebRTCAnswer(sdp=answer.sdp, type=answer.type, session_id=session.stream.session_id)
    return JSONResponse(json.loads(body.model_dump_json()))
