"""What goes into the agents (a speaker-labeled transcript) and what comes out, for both engines.

The same models are the structured outputs the CrewAI tasks must produce and what the offline
extractor fills, so the two engines are interchangeable and their results are stored the same way.
"""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, Field


class Engine(enum.StrEnum):
    OFFLINE = "offline"  # the deterministic extractor (patterns, dateparser, phonenumbers)
    CREWAI = "crewai"  # CrewAI crews over an LLM


# ---------------------------------------------------------------- input


class TranscriptWord(BaseModel):
    word: str
    start_s: float
    end_s: float


class TranscriptSegment(BaseModel):
    """One final segment with its speaker's display name (``Speaker 1`` or a name the user gave)."""

    index: int
    speaker: str
    start_s: float
    end_s: float
    text: str
    words: list[TranscriptWord] = Field(default_factory=list)


class Transcript(BaseModel):
    session_id: str
    segments: list[TranscriptSegment]
    recorded_at: datetime | None = None  # anchors relative dates ("next Tuesday")
    language: str = "en"

    def as_prompt_text(self) -> str:
        """One line per segment: ``[12.3-15.0] Dana: text`` (what the LLM sees and cites)."""
        return "\n".join(f"[{s.start_s:.1f}-{s.end_s:.1f}] {s.speaker}: {s.text}" for s in self.segments)


# ---------------------------------------------------------------- output


class Evidence(BaseModel):
    """A quote that links back to the moment in the call."""

    quote: str
    speaker: str
    start_s: float
    end_s: float


class ActionItem(BaseModel):
    text: str
    owner: str | None = None  # the speaker who took it on, when named


class Summary(BaseModel):
    abstract: str
    bullets: list[str] = Field(default_factory=list)
    action_items: list[ActionItem] = Field(default_factory=list)


class Lead(BaseModel):
    person: str | None = None
    company: str | None = None
    role: str | None = None
    email: str | None = None
    phone: str | None = None  # E.164 when it parses
    intent: str | None = None
    budget: str | None = None
    timeline: str | None = None
    next_step: str | None = None
    score: int = Field(0, ge=0, le=100)
    score_reasons: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)


class Event(BaseModel):
    name: str
    starts_at: str | None = None  # ISO 8601, with an offset when the zone is known
    ends_at: str | None = None
    timezone: str | None = None  # IANA name when known
    location: str | None = None
    url: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)


class EmailDraft(BaseModel):
    subject: str
    body: str


# ---------------------------------------------------------------- structured outputs of the crews


class LeadList(BaseModel):
    leads: list[Lead] = Field(default_factory=list)


class EventList(BaseModel):
    events: list[Event] = Field(default_factory=list)


class EmailDraftList(BaseModel):
    """One draft per lead, in the order of the leads."""

    drafts: list[EmailDraft] = Field(default_factory=list)


class AgentsResult(BaseModel):
    """Everything one run produced, with the engine behind each part and why a fallback happened."""

    summary: Summary
    summary_engine: Engine
    leads: list[Lead]
    leads_engine: Engine
    events: list[Event]
    events_engine: Engine
    drafts: list[EmailDraft]  # one per lead, same order
    drafts_engine: Engine
    fallback_reasons: list[str] = Field(default_factory=list)
