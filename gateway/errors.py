"""The one error shape of the HTTP API: ``{"error": {"code": "...", "message": "..."}}``.

Routes raise an ``ApiError`` (or a subclass); ``install_error_handlers`` turns it, FastAPI's validation
errors, Starlette's HTTP errors and anything unexpected into that shape, so no client ever sees a
different body or a bare 500 page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.observability import note_error_code

log = logging.getLogger("ayka.gateway.errors")


class ApiError(Exception):
    """An error with an HTTP status, a stable machine-readable code and a human message."""

    status = 400
    code = "bad_request"
    message = "The request is not valid."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        details: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.code = code or type(self).code
        self.status = status or type(self).status
        self.headers = dict(headers or {})
        self.details = list(details) if details is not None else None
        super().__init__(self.message)


class Unauthenticated(ApiError):
    status = 401
    code = "not_authenticated"
    message = "Send an access token (Authorization: Bearer …) or an API key (Authorization: Token …)."


class Forbidden(ApiError):
    status = 403
    code = "insufficient_scope"
    message = "This credential is not allowed to do that."


class NotFound(ApiError):
    status = 404
    code = "not_found"
    message = "Not found."


class Conflict(ApiError):
    status = 409
    code = "conflict"
    message = "That conflicts with the current state."


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"
    message = "The request body is too large."


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"
    message = "Too many requests; retry after the number of seconds in Retry-After."


class Unavailable(ApiError):
    status = 503
    code = "unavailable"
    message = "A backing service is not available right now; retry shortly."


_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = list(details)
    return {"error": error}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    details: Sequence[Mapping[str, Any]] | None = None,
) -> JSONResponse:
    response = JSONResponse(
        error_body(code, message, details), status_code=status, headers=dict(headers or {})
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        details.append({"loc": loc, "msg": str(err.get("msg", "invalid"))})
    return details


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    note_error_code(exc.code)
    return error_response(exc.status, exc.code, exc.message, headers=exc.headers, details=exc.details)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    note_error_code("validation_error")
    return error_response(
        422, "validation_error", "The request is not valid; see details.", details=_validation_details(exc)
    )


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    note_error_code(code)
    message = exc.detail if isinstance(exc.detail, str) else "HTTP error."
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _on_bad_text(request: Request, exc: Exception) -> JSONResponse:
    # Text PostgreSQL cannot store (NUL characters, lone surrogates) or a value it cannot parse: the
    # client's input, not our fault.
    note_error_code("invalid_text")
    return error_response(422, "invalid_text", "A text value holds characters that cannot be stored (NUL).")


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    note_error_code("internal_error")
    return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(asyncpg.exceptions.DataError, _on_bad_text)
    app.add_exception_handler(UnicodeEncodeError, _on_bad_text)
    app.add_exception_handler(Exception, _on_unexpected)
