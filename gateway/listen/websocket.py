"""``WS /v1/listen``: Deepgram's live protocol over a WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from gateway.auth import AuthError, authenticate
from gateway.errors import Unavailable
from gateway.listen.protocol import CloseCode, ProtocolError, parse_control, parse_params
from gateway.listen.session import Closed, LiveStream, dumps
from gateway.ratelimit import TooManyStreams, acquire_stream_slot
from gateway.security import origin_allowed
from gateway.state import GatewayState

log = logging.getLogger("ayka.listen")

router = APIRouter(tags=["live"])


def credential(ws: WebSocket) -> tuple[str, str | None]:
    """(token, subprotocol to echo): ``Authorization: Token|Bearer x``, ``Sec-WebSocket-Protocol:
    token, x`` (browsers cannot set headers), or ``?token=x``."""
    auth = ws.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() in {"token", "bearer"} and value.strip():
        return value.strip(), None
    protocols = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
    if len(protocols) >= 2 and protocols[0].lower() in {"token", "bearer"}:
        return protocols[1], protocols[0]
    return ws.query_params.get("token", ""), None


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    if ws.client_state is WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await ws.close(code=code, reason=reason[:120])


@router.websocket("/v1/listen")
async def listen(ws: WebSocket) -> None:
    state: GatewayState = ws.app.state.gateway
    settings = state.settings
    token, subprotocol = credential(ws)
    await ws.accept(subprotocol=subprotocol)
    try:
        if not origin_allowed(settings, ws.headers.get("origin")):
            raise ProtocolError(CloseCode.POLICY, "origin not allowed")
        try:
            principal = await authenticate(state, token)
        except AuthError as exc:
            raise ProtocolError(CloseCode.POLICY, f"{exc.code}: {exc.message}") from None
        if not principal.has("listen"):
            raise ProtocolError(CloseCode.POLICY, "this credential lacks the listen scope")
        query = dict(ws.query_params)
        params = parse_params(query, ws.query_params.getlist("tag"))
    except ProtocolError as exc:
        await _close(ws, exc.code, exc.reason)
        return

    try:
        async with acquire_stream_slot(state, principal.owner_id):
            await _serve(ws, state, principal.owner_id, params)
    except (TooManyStreams, Unavailable) as exc:
        await _close(ws, CloseCode.TRY_AGAIN, exc.message)


class Outcome(enum.Enum):
    """How reading a client's frames ended."""

    FINISHED = "finished"  # CloseStream (or the session's length limit): the session is flushed and over
    FAILED = "failed"  # a protocol error: what was accepted is flushed, then the close code goes out
    DETACHED = "detached"  # the client vanished, or the stream fell too far behind: the session waits


async def _serve(ws: WebSocket, state: GatewayState, owner_id: str, params: Any) -> None:
    outbound: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    async def send(message: dict[str, Any]) -> None:
        await outbound.put(message)

    stream = LiveStream(state, owner_id, params, send)
    try:
        await stream.open()
    except (ProtocolError, Closed) as exc:
        await _close(ws, exc.code, exc.reason)
        return

    async def writer() -> None:
        while (message := await outbound.get()) is not None:
            await ws.send_text(dumps(message))

    writer_task = asyncio.create_task(writer())
    outcome, close = Outcome.DETACHED, None
    try:
        outcome, close = await _read(ws, stream, state.settings.idle_timeout_s)
    except (WebSocketDisconnect, RuntimeError):
        outcome, close = Outcome.DETACHED, None
    finally:
        if outcome is Outcome.DETACHED:
            await stream.detach()  # gone without CloseStream: the session waits for a resume
        else:
            with contextlib.suppress(Exception):
                await stream.finish(reason=close[1] if close else "closed")
        await outbound.put(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer_task, 10)
        writer_task.cancel()
        if close is None and outcome is Outcome.FINISHED:
            close = (CloseCode.NORMAL, "stream finished")
        if close is not None:
            await _close(ws, *close)


async def _read(
    ws: WebSocket, stream: LiveStream, idle_timeout_s: float
) -> tuple[Outcome, tuple[int, str] | None]:
    """Read client frames until the stream ends; returns how, and the close code and reason to send (None:
    1000 after CloseStream, or nothing when the client is gone). After CloseStream the reading goes on while
    the stream flushes, so that audio sent after it is refused with 4003 instead of vanishing."""
    finishing: asyncio.Task[None] | None = None
    while True:
        if finishing is None:  # the per-frame path: one wait_for, the cheapest form
            remaining = idle_timeout_s - (time.monotonic() - stream.last_activity)
            try:
                message = await asyncio.wait_for(ws.receive(), timeout=max(remaining, 0.01))
            except TimeoutError:
                reason = f"NET-0001: no audio or KeepAlive received for {idle_timeout_s:.0f} s"
                return Outcome.FAILED, (CloseCode.INTERNAL, reason)
        else:  # flushing: no idle timeout; stop when the closing Metadata has gone out
            receive: asyncio.Future[Any] = asyncio.ensure_future(ws.receive())
            either: set[asyncio.Future[Any]] = {receive, finishing}
            done, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if receive not in done:
                receive.cancel()
                with contextlib.suppress(BaseException):
                    await receive
                return Outcome.FINISHED, None
            message = receive.result()
        if message["type"] == "websocket.disconnect":
            if finishing is not None:  # CloseStream, then the client hung up: the flush still completes
                await finishing
                return Outcome.FINISHED, None
            raise WebSocketDisconnect(message.get("code", 1006))
        try:
            if message.get("bytes") is not None:
                await stream.audio(message["bytes"])
            elif message.get("text") is not None and await stream.control(parse_control(message["text"])):
                finishing = stream.start_finish()
        except ProtocolError as exc:
            return Outcome.FAILED, (exc.code, exc.reason)
        except Closed as exc:
            return (Outcome.DETACHED if exc.keep_session else Outcome.FINISHED), (exc.code, exc.reason)
