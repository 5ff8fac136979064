"""Sessions (live streams and uploaded recordings), their transcripts, speakers and summaries."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from gateway.api.schemas.common import StrictModel


class SessionStatus(enum.StrEnum):
    LIVE = "live"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class TranscriptFormat(enum.StrEnum):
    JSON = "json"
    TXT = "txt"
    SRT = "srt"
    VTT = "vtt"


class DiarizationFormat(enum.StrEnum):
    JSON = "json"
    RTTM = "rttm"


class SessionPublic(BaseModel):
    id: str
    title: str
    status: str
    source: Literal["live", "upload"]
    created_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    language: str | None
    model: str | None
    diarize_backend: str | None
    diarization_status: str
    agents_status: str
    segment_count: int
    speaker_count: int
    error: str | None = None


class SessionList(BaseModel):
    items: list[SessionPublic]
    next_cursor: str | None


class SessionUpdate(StrictModel):
    title: str = Field(max_length=500)


class WordPublic(BaseModel):
    word: str
    punctuated_word: str
    start_s: float
    end_s: float
    confidence: float
    speaker: int | None = None


class SegmentPublic(BaseModel):
    index: int
    start_s: float
    end_s: float
    text: str
    speaker: int | None
    speaker_name: str | None
    words: list[WordPublic]


class Transcript(BaseModel):
    session_id: str
    segments: list[SegmentPublic]


class AudioLink(BaseModel):
    url: str
    expires_at: datetime


class Turn(BaseModel):
    start_s: float
    end_s: float
    speaker: int


class Diarization(BaseModel):
    session_id: str
    backend: str | None
    turns: list[Turn]


class SpeakerPublic(BaseModel):
    label: int
    name: str


class SpeakerList(BaseModel):
    items: list[SpeakerPublic]


class SpeakerUpdate(StrictModel):
    name: str = Field(min_length=1, max_length=200)


class ActionItem(BaseModel):
    text: str
    owner: str | None = None


class SummaryPublic(BaseModel):
    abstract: str
    bullets: list[str]
    action_items: list[ActionItem]
    engine: str


def default_speaker_name(label: int) -> str:
    return f"Speaker {label + 1}"


def coerce_word(raw: dict[str, Any]) -> WordPublic:
    """Words are stored as the bus ``Word``; tolerate older rows that lack a field."""
    word = str(raw.get("word", raw.get("punctuated_word", "")))
    return WordPublic(
        word=word,
        punctuated_word=str(raw.get("punctuated_word", word)),
        start_s=float(raw.get("start_s", raw.get("start", 0.0))),
        end_s=float(raw.get("end_s", raw.get("end", 0.0))),
        confidence=float(raw.get("confidence", 0.0)),
        speaker=raw.get("speaker"),
    )
