"""One session through the agents: load the transcript, run the engine, store, announce.

The engine runs in a thread (an LLM call blocks for seconds). Storing is one transaction (see
``agents.store``); the bus events follow the commit, with message ids that make a re-announcement
harmless, so a crash between the two is repaired when the trigger is delivered again. Phones are
pushed right after the commit, once (a re-delivered trigger finds the session done and pushes nothing).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from typing import TYPE_CHECKING, Any

import asyncpg
from nats.js import JetStreamContext

from agents.engine import run_engine
from agents.metrics import AGENT_RUNS
from agents.push import ExpoPush
from agents.store import RunStatus, lead_payload, step_runs, store_result
from agents.transcripts import load_transcript
from agents.webhooks.clock import Clock, SystemClock
from ayka import bus
from ayka.settings import Settings
from persistence.db import Pool
from persistence.repositories import leads, sessions
from persistence.repositories.sessions import Session, StepStatus

if TYPE_CHECKING:
    from crewai.llms.base_llm import BaseLLM

log = logging.getLogger("ayka.agents")


class Outcome(enum.Enum):
    DONE = "done"  # results stored and announced
    ALREADY_DONE = "already_done"  # an earlier run finished it; its announcements were repeated
    MISSING = "missing"  # no such session (deleted)
    FAILED = "failed"  # the engine raised; agents_status is failed with the reason


async def process_session(
    settings: Settings,
    pool: Pool,
    js: JetStreamContext,
    session_id: str,
    *,
    llm: BaseLLM | None = None,
    clock: Clock | None = None,
    push: ExpoPush | None = None,
) -> Outcome:
    """``push`` overrides the Expo sender the settings describe (tests)."""
    clock = clock or SystemClock()
    session = await sessions.get_for_worker(pool, session_id)
    if session is None:
        return Outcome.MISSING
    if session.agents_status == StepStatus.DONE or not await sessions.claim_agents(pool, session.id):
        return await _already_done(pool, js, session.id)
    transcript = await load_transcript(pool, session)
    try:
        result = await asyncio.to_thread(run_engine, settings, transcript, llm)
    except Exception as exc:  # a bug in an engine must not wedge the session in "running"
        log.exception("agents failed on session %s", session.id)
        await sessions.fail_agents(pool, session.id, f"agents: {exc}")
        _count_failed()
        return Outcome.FAILED
    for reason in result.fallback_reasons:
        log.warning("session %s: %s", session.id, reason)
    try:
        stored = await store_result(pool, session, result, len(transcript.segments), clock.now())
    except asyncpg.PostgresConnectionError:
        raise  # the database is away: the trigger is delivered again later
    except asyncpg.PostgresError as exc:  # rolled back whole: no lead without its announcements
        log.exception("storing the agents' results of session %s failed", session.id)
        await sessions.fail_agents(pool, session.id, f"agents: {exc}")
        _count_failed()
        return Outcome.FAILED
    if not stored.written:
        return Outcome.ALREADY_DONE
    for run in step_runs(result):
        AGENT_RUNS.labels(step=run.step, result="success" if run.status is RunStatus.OK else "fallback").inc()
    pusher = push or ExpoPush.from_settings(settings)
    for payload in stored.lead_payloads:
        await pusher.push_lead(pool, session.owner_id, payload)
    await publish_done(js, session, stored.lead_payloads)
    return Outcome.DONE


async def _already_done(pool: Pool, js: JetStreamContext, session_id: str) -> Outcome:
    """An earlier run finished the session: repeat its announcements (their message ids make that
    harmless)."""
    session = await sessions.get_for_worker(pool, session_id)
    if session is None:
        return Outcome.MISSING
    await publish_done(
        js, session, [lead_payload(row) for row in await leads.list_for_worker(pool, session.id)]
    )
    return Outcome.ALREADY_DONE


STEPS = ("leads", "events", "summary", "email")


def _count_failed() -> None:
    for step in STEPS:
        AGENT_RUNS.labels(step=step, result="failure").inc()


async def publish_done(js: JetStreamContext, session: Session, lead_payloads: list[dict[str, Any]]) -> None:
    """The bus side of a finished run; ``Nats-Msg-Id`` makes a repeat within the window a no-op."""
    for payload in lead_payloads:
        if payload.get("finalized", True):
            await _publish(js, bus.LEAD_FINALIZED, session, payload, f"lead.{payload['lead_id']}")
    done = {"lead_ids": [p["lead_id"] for p in lead_payloads]}
    await _publish(js, bus.AGENTS_DONE, session, done, f"agents.{session.id}")
    await _publish(js, bus.TRANSCRIPT_FINALIZED, session, {}, f"transcript.{session.id}")
    await _publish(js, bus.SESSION_COMPLETED, session, done, f"completed.{session.id}")


async def _publish(
    js: JetStreamContext, subject: str, session: Session, data: dict[str, Any], msg_id: str
) -> None:
    event = bus.SessionEvent(session_id=session.id, owner_id=session.owner_id, data=data)
    await js.publish(
        bus.event_subject(subject, session.id),
        event.model_dump_json().encode(),
        headers={bus.HDR_MSG_ID: msg_id},
    )
