"""Writing one run's results: everything in one transaction, with its announcements.

A finalized lead, its notification and its webhook outbox rows commit together (or not at all), and
so do ``transcript.finalized`` and ``session.completed``. A re-run replaces what was not finalized and
never duplicates what was: a session whose agents are done is not written again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agents.schema import AgentsResult, EmailDraft, Engine, Event, Lead
from agents.webhooks.outbox import EventType, announce
from persistence.db import Connection, Pool
from persistence.repositories import agent_runs, events, leads, notifications, sessions, summaries
from persistence.repositories.leads import LeadFields
from persistence.repositories.sessions import Session, SessionStatus, StepStatus


@dataclass
class Stored:
    written: bool  # False when another run had already finished this session
    lead_payloads: list[dict[str, Any]] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)


def lead_payload(row: leads.Lead) -> dict[str, Any]:
    """What ``lead.finalized`` carries (bus event and webhook)."""
    return {
        "lead_id": row.id,
        "session_id": row.session_id,
        **{name: getattr(row, name) for name in LeadFields.__dataclass_fields__},
        "engine": row.engine,
        "finalized": row.finalized,
        "created_at": row.created_at.isoformat(),
    }


def _lead_fields(lead: Lead, draft: EmailDraft | None) -> LeadFields:
    return LeadFields(
        **lead.model_dump(exclude={"evidence", "score_reasons", "score"}),
        score=lead.score,
        score_reasons=list(lead.score_reasons),
        evidence=[e.model_dump() for e in lead.evidence],
        email_draft=draft.model_dump() if draft else None,
    )


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _event_fields(event: Event) -> events.EventFields:
    starts_at = _when(event.starts_at)
    return events.EventFields(
        name=event.name,
        # A date or time said without a zone is kept as UTC wall time, and ``timezone`` stays unknown.
        starts_at=starts_at if starts_at is None or starts_at.tzinfo else starts_at.replace(tzinfo=UTC),
        ends_at=_aware(_when(event.ends_at)),
        timezone=event.timezone,
        location=event.location,
        url=event.url,
        evidence=[e.model_dump() for e in event.evidence],
    )


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


async def store_result(
    pool: Pool, session: Session, result: AgentsResult, segment_count: int, now: datetime
) -> Stored:
    async with pool.acquire() as conn, conn.transaction():
        status = await conn.fetchval(
            "SELECT agents_status FROM sessions WHERE id = $1 FOR UPDATE", session.id
        )
        if status is None or status == StepStatus.DONE:
            return Stored(written=False)
        await leads.replace_unfinalized(conn, session.id)
        await events.replace_for_session(conn, session.id)
        await summaries.upsert(
            conn,
            session.owner_id,
            session.id,
            result.summary.abstract,
            list(result.summary.bullets),
            [item.model_dump() for item in result.summary.action_items],
            str(result.summary_engine),
        )
        stored = Stored(written=True)
        for index, lead in enumerate(result.leads):
            draft = result.drafts[index] if index < len(result.drafts) else None
            row = await leads.create(
                conn, session.owner_id, session.id, _lead_fields(lead, draft), str(result.leads_engine), True
            )
            payload = lead_payload(row)
            stored.lead_payloads.append(payload)
            await _announce_lead(conn, session, payload, now)
        for event in result.events:
            stored.event_ids.append(
                (
                    await events.create(
                        conn, session.owner_id, session.id, _event_fields(event), str(result.events_engine)
                    )
                ).id
            )
        await _record_runs(conn, session.id, result)
        await announce(
            conn,
            session.owner_id,
            EventType.TRANSCRIPT_FINALIZED,
            {"session_id": session.id, "segment_count": segment_count, "duration_s": session.duration_s},
            now,
        )
        await announce(
            conn,
            session.owner_id,
            EventType.SESSION_COMPLETED,
            {
                "session_id": session.id,
                "title": session.title,
                "duration_s": session.duration_s,
                "lead_ids": [p["lead_id"] for p in stored.lead_payloads],
                "event_ids": stored.event_ids,
                "summary": result.summary.abstract,
            },
            now,
        )
        await sessions.update_state(
            conn, session.id, status=SessionStatus.COMPLETED, agents_status=StepStatus.DONE
        )
        return stored


@dataclass(frozen=True)
class Notice:
    """What the owner is told about a finalized lead: the in-app notification and the phone push."""

    title: str
    body: str


def lead_notice(payload: dict[str, Any]) -> Notice:
    who = payload.get("person") or payload.get("company") or payload.get("email") or "someone"
    return Notice(
        title=f"New lead: {who}",
        body=f"Score {payload['score']}" + (f" — {payload['intent']}" if payload.get("intent") else ""),
    )


async def _announce_lead(conn: Connection, session: Session, payload: dict[str, Any], now: datetime) -> None:
    notice = lead_notice(payload)
    await notifications.create(
        conn,
        session.owner_id,
        kind="lead.finalized",
        title=notice.title,
        body=notice.body,
        data={"lead_id": payload["lead_id"], "session_id": session.id},
    )
    await announce(conn, session.owner_id, EventType.LEAD_FINALIZED, payload, now)


class RunStatus(enum.StrEnum):
    OK = "ok"
    FALLBACK = "fallback"  # the LLM failed; the offline extractor answered


@dataclass(frozen=True)
class StepRun:
    step: str  # leads | events | summary | email
    engine: Engine
    status: RunStatus
    reason: str | None


_REASON_PREFIX = {"leads": "leads:", "events": "events:", "summary": "summary:", "email": "email drafts:"}


def step_runs(result: AgentsResult) -> list[StepRun]:
    """Which engine answered each step, and whether it was a fallback (with the reasons)."""
    steps = (
        ("leads", result.leads_engine),
        ("events", result.events_engine),
        ("summary", result.summary_engine),
        ("email", result.drafts_engine),
    )
    runs = []
    for step, engine in steps:
        why = [r for r in result.fallback_reasons if r.startswith(_REASON_PREFIX[step])]
        fell_back = engine is Engine.OFFLINE and bool(why)
        runs.append(
            StepRun(step, engine, RunStatus.FALLBACK if fell_back else RunStatus.OK, "; ".join(why) or None)
        )
    return runs


async def _record_runs(conn: Connection, session_id: str, result: AgentsResult) -> None:
    for run in step_runs(result):
        await agent_runs.record(conn, session_id, run.step, str(run.engine), str(run.status), run.reason)


async def store_live_leads(pool: Pool, session: Session, found: list[Lead]) -> int:
    """During the call: the session's unfinalized leads become what the latest finals say."""
    async with pool.acquire() as conn, conn.transaction():
        await leads.replace_unfinalized(conn, session.id)
        for lead in found:
            await leads.create(
                conn, session.owner_id, session.id, _lead_fields(lead, None), str(Engine.OFFLINE)
            )
    return len(found)
