"""One pure-ASGI middleware for every HTTP request: request id, body size limit, security headers,
latency/error metrics and a structured access log line.

Pure ASGI (not ``BaseHTTPMiddleware``) so streaming bodies stay streaming and the limit applies while
the body arrives, before a route buffers anything.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ayka.settings import Settings
from gateway.errors import error_body
from gateway.observability import (
    HTTP_DURATION,
    HTTP_ERRORS,
    error_code_var,
    redact,
    request_id_var,
    response_headers_var,
)

log = logging.getLogger("ayka.gateway.access")

JSON_BODY_LIMIT_BYTES = 1024 * 1024
MULTIPART_OVERHEAD_BYTES = 64 * 1024
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

_API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),  # tokens and people's data: never in a shared cache
]
_PAGE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), geolocation=(), microphone=(self)"),
]


def body_limit(settings: Settings, path: str) -> int:
    if path.rstrip("/") == "/v1/recordings":
        return settings.max_upload_bytes + MULTIPART_OVERHEAD_BYTES
    return JSON_BODY_LIMIT_BYTES


class GatewayMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.hsts = settings.gateway_url.startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        id_token = request_id_var.set(request_id)
        holder: list[str] = []
        code_token = error_code_var.set(holder)
        extra_headers: dict[str, str] = {}
        headers_token = response_headers_var.set(extra_headers)
        path: str = scope["path"]
        limit = body_limit(self.settings, path)
        started = time.perf_counter()
        status = 500
        response_started = False
        rejected = False
        replaced = False
        received = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started, replaced
            if rejected or replaced:
                return  # we already answered (413, or our JSON 404); the app's answer goes nowhere
            if message["type"] == "http.response.start" and _html_404_in_api(path, message):
                # An unknown /v1/ path fell through to the web UI's 404 page: answer in the API's shape.
                holder.append("not_found")
                body = json.dumps(error_body("not_found", "No such route.")).encode()
                await send_wrapper(_json_start(404, body))
                await send_wrapper({"type": "http.response.body", "body": body})
                replaced = True
                return
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                extra = list(_API_HEADERS if path.startswith("/v1/") else _PAGE_HEADERS)
                if self.hsts:
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                    *[(k, v) for k, v in extra if k not in present],
                    *[
                        (k.lower().encode(), v.encode())
                        for k, v in extra_headers.items()
                        if k.lower().encode() not in present
                    ],
                ]
            await send(message)

        async def reject_too_large() -> None:
            nonlocal rejected, status
            holder.append("payload_too_large")
            status = 413
            body = json.dumps(
                error_body("payload_too_large", f"The request body is larger than {limit} bytes.")
            ).encode()
            await send_wrapper(_json_start(413, body, close=True))
            await send_wrapper({"type": "http.response.body", "body": body})
            rejected = True

        async def receive_wrapper() -> Message:
            nonlocal received
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not response_started:
                    await reject_too_large()
                    return {"type": "http.disconnect"}
            return message

        try:
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                await reject_too_large()  # early: before a single byte of the body is read
            else:
                await self.app(scope, receive_wrapper, send_wrapper)
        except Exception:
            holder.append("internal_error")
            status = 500
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            HTTP_DURATION.labels(route, scope["method"], str(status)).observe(elapsed)
            if status >= 400:
                HTTP_ERRORS.labels(holder[-1] if holder else f"http_{status}").inc()
            log.info(
                "%s %s %s",
                scope["method"],
                redact(path),
                status,
                extra={
                    "method": scope["method"],
                    "path": redact(path),
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "error_code": holder[-1] if holder else None,
                },
            )
            response_headers_var.reset(headers_token)
            error_code_var.reset(code_token)
            request_id_var.reset(id_token)


def _route_template(scope: Scope) -> str:
    """The matched route's path template (bounded label cardinality); unmatched paths share one label."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else "unmatched"


def _json_start(status: int, body: bytes, *, close: bool = False) -> Message:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    return {"type": "http.response.start", "status": status, "headers": headers}


def _html_404_in_api(path: str, message: Message) -> bool:
    if message["status"] != 404 or not path.startswith("/v1/"):
        return False
    content_type = dict(message.get("headers", [])).get(b"content-type", b"")
    return not content_type.startswith(b"application/json")
