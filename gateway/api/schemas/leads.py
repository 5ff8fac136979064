"""Leads, events mentioned in calls, and notifications."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from gateway.api.schemas.common import StrictModel


class LeadStatus(enum.StrEnum):
    """The sales pipeline: new → contacted → qualified → won | lost (owners may move a lead anywhere)."""

    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    WON = "won"
    LOST = "lost"


class Evidence(BaseModel):
    quote: str
    speaker: str | int | None = None
    start_s: float | None = None
    end_s: float | None = None


class EmailDraft(BaseModel):
    subject: str
    body: str


class LeadPublic(BaseModel):
    id: str
    session_id: str
    person: str | None
    company: str | None
    role: str | None
    email: str | None
    phone: str | None
    intent: str | None
    budget: str | None
    timeline: str | None
    next_step: str | None
    score: int
    score_reasons: list[str]
    status: LeadStatus
    notes: str
    evidence: list[Evidence]
    email_draft: EmailDraft | None
    engine: str
    finalized: bool
    created_at: datetime
    updated_at: datetime


class LeadList(BaseModel):
    items: list[LeadPublic]


_TEXT = Field(default=None, max_length=2000)


class LeadUpdate(StrictModel):
    status: LeadStatus | None = None
    notes: str | None = Field(default=None, max_length=20000)
    person: str | None = _TEXT
    company: str | None = _TEXT
    role: str | None = _TEXT
    email: str | None = _TEXT
    phone: str | None = _TEXT
    intent: str | None = _TEXT
    budget: str | None = _TEXT
    timeline: str | None = _TEXT
    next_step: str | None = _TEXT


class LeadEmailRequest(StrictModel):
    to: str = Field(min_length=3, max_length=320)


class LeadEmailSent(BaseModel):
    message_id: str


class EventPublic(BaseModel):
    id: str
    session_id: str
    name: str
    starts_at: datetime | None
    ends_at: datetime | None
    timezone: str | None
    location: str | None
    url: str | None
    evidence: list[Evidence]
    engine: str
    created_at: datetime


class EventList(BaseModel):
    items: list[EventPublic]


class NotificationPublic(BaseModel):
    id: str
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    read: bool
    created_at: datetime


class NotificationList(BaseModel):
    items: list[NotificationPublic]


class PushPlatform(enum.StrEnum):
    IOS = "ios"
    ANDROID = "android"
    WEB = "web"


class PushTokenCreate(StrictModel):
    token: str = Field(min_length=1, max_length=512)
    platform: PushPlatform


class PushTokenPublic(BaseModel):
    token: str
    platform: str
    created_at: datetime
