"""Webhook endpoints and their deliveries (the delivery worker lives in agents/)."""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import AnyHttpUrl, BaseModel, Field

from gateway.api.schemas.common import StrictModel


class WebhookEventType(enum.StrEnum):
    """What an endpoint can subscribe to: exactly the events the agents pipeline queues for delivery
    (``agents.webhooks.outbox.EventType``); a test keeps the two equal."""

    LEAD_FINALIZED = "lead.finalized"
    TRANSCRIPT_FINALIZED = "transcript.finalized"
    SESSION_COMPLETED = "session.completed"


class WebhookCreate(StrictModel):
    url: AnyHttpUrl
    description: str = Field("", max_length=500)
    event_types: list[WebhookEventType] = Field(min_length=1, max_length=len(WebhookEventType))


class WebhookUpdate(StrictModel):
    url: AnyHttpUrl | None = None
    description: str | None = Field(None, max_length=500)
    event_types: list[WebhookEventType] | None = Field(None, min_length=1, max_length=len(WebhookEventType))
    enabled: bool | None = None


class WebhookPublic(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookPublic):
    secret: str  # whsec_…


class WebhookList(BaseModel):
    items: list[WebhookPublic]


class WebhookSecret(BaseModel):
    secret: str
    previous_secret_expires_at: datetime | None = None


class DeliveryPublic(BaseModel):
    id: str
    webhook_id: str  # the message id (``webhook-id`` header); the same on every retry and replay
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryList(BaseModel):
    items: list[DeliveryPublic]


class ReplayRequest(StrictModel):
    since: datetime


class ReplayResult(BaseModel):
    replayed: int
