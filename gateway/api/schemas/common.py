"""Shapes shared by every resource."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Request bodies: unknown fields are refused (a typo must not silently do nothing)."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    loc: list[str]
    msg: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    error: ErrorInfo


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting our error body for the given statuses."""
    descriptions = {
        400: "Bad request",
        401: "Not authenticated (missing, malformed, expired or revoked credential)",
        403: "The credential lacks the scope",
        404: "Not found (or not yours)",
        409: "Conflict",
        413: "Body too large",
        422: "Validation error",
        429: "Rate limited (see Retry-After)",
        503: "A backing service is unavailable",
    }
    return {s: {"model": ErrorBody, "description": descriptions.get(s, "Error")} for s in statuses}
