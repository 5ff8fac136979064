"""Uploaded recordings."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from gateway.api.schemas.common import StrictModel


class PresignRequest(StrictModel):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field("application/octet-stream", max_length=100, pattern=r"^[\w.+-]+/[\w.+-]+$")
    title: str = Field("", max_length=500)
    language: str = Field("en", min_length=2, max_length=16, pattern=r"^[A-Za-z-]+$")
    diarize: bool = True


class PresignedUpload(BaseModel):
    session_id: str
    upload_url: str
    expires_at: datetime
    method: str = "PUT"
    headers: dict[str, str]
