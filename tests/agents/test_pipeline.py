"""A diarized session through the agents into PostgreSQL and the bus (offline engine and scripted LLM)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from nats.aio.client import Client as NATS
from prometheus_client import REGISTRY

from agents.crew import LEAD_AGENT
from agents.pipeline import Outcome, process_session
from agents.webhooks import EventType, new_secret
from ayka import bus
from ayka.settings import Settings
from persistence.db import Pool
from persistence.repositories import agent_runs, events, leads, notifications, sessions, summaries, webhooks
from persistence.repositories.users import User
from tests.agents.scripted import good, scripted
from tests.agents.seed import seed_session

OFFLINE = Settings()
STEPS = ("leads", "events", "summary", "email")


def runs_counted(result: str) -> dict[str, float]:
    """``ayka_agent_runs_total`` per step for one result (what the AykaAgentSuccessRateLow alert reads)."""
    return {
        step: REGISTRY.get_sample_value("ayka_agent_runs_total", {"step": step, "result": result}) or 0.0
        for step in STEPS
    }


def grew(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {step: after[step] - before[step] for step in STEPS}


@pytest.fixture
async def subscribed(agents_pool: Pool, owner: User) -> str:
    """An endpoint of the owner subscribed to all three event types (the outbox gets rows for it)."""
    ep = await webhooks.create(
        agents_pool, owner.id, "https://hooks.example.com/ayka", [str(t) for t in EventType], new_secret()
    )
    return ep.id


async def outbox(pool: Pool, endpoint_id: str) -> list[tuple[str, dict[str, object]]]:
    rows = await pool.fetch(
        "SELECT event_type, payload FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY created_at",
        endpoint_id,
    )
    return [(row["event_type"], row["payload"]) for row in rows]


async def test_a_sales_call_gives_summary_leads_events_and_announcements(
    agents_pool: Pool, owner: User, nc: NATS, subscribed: str
) -> None:
    session = await seed_session(agents_pool, owner.id, "saas_demo")
    js = nc.jetstream()
    before = runs_counted("success")
    assert await process_session(OFFLINE, agents_pool, js, session.id) is Outcome.DONE
    assert grew(before, runs_counted("success")) == dict.fromkeys(STEPS, 1.0)

    done = await sessions.get(agents_pool, owner.id, session.id)
    assert done is not None and done.agents_status == "done" and done.status == "completed"
    summary = await summaries.get(agents_pool, owner.id, session.id)
    assert summary is not None and summary.engine == "offline" and summary.abstract
    (lead,) = await leads.list_for_owner(agents_pool, owner.id, session_id=session.id)
    assert lead.person == "Dana Whitfield" and lead.finalized and lead.engine == "offline"
    assert lead.email_draft is not None and lead.email_draft["body"].startswith("Hi Dana,")
    assert any(e["speaker"] == "Dana Whitfield" for e in lead.evidence)  # the speaker's name, not a label
    (event,) = await events.list_for_owner(agents_pool, owner.id, session_id=session.id)
    assert event.name == "Brightwave Customer Summit"
    assert (
        event.starts_at == datetime(2027, 3, 12, 17, 0, tzinfo=UTC)
        and event.timezone == "America/Los_Angeles"
    )
    (note,) = await notifications.list_for_owner(agents_pool, owner.id)
    assert note.kind == "lead.finalized" and note.data["lead_id"] == lead.id

    kinds = dict(await outbox(agents_pool, subscribed))  # one row each, written with the lead
    assert sorted(kinds) == ["lead.finalized", "session.completed", "transcript.finalized"]
    assert kinds["lead.finalized"]["type"] == "lead.finalized"
    assert kinds["lead.finalized"]["data"]["lead_id"] == lead.id  # type: ignore[index]
    assert kinds["session.completed"]["data"]["lead_ids"] == [lead.id]  # type: ignore[index]

    runs = await agent_runs.list_for_session(agents_pool, owner.id, session.id)
    assert {(r.step, r.engine, r.status) for r in runs} == {
        (step, "offline", "ok") for step in ("leads", "events", "summary", "email")
    }

    published = await js.get_last_msg(bus.EVENTS_STREAM, bus.event_subject(bus.LEAD_FINALIZED, session.id))
    announced = bus.SessionEvent.model_validate_json(published.data or b"")
    assert announced.session_id == session.id and announced.data["lead_id"] == lead.id
    completed = await js.get_last_msg(bus.EVENTS_STREAM, bus.event_subject(bus.SESSION_COMPLETED, session.id))
    assert bus.SessionEvent.model_validate_json(completed.data or b"").session_id == session.id


async def test_running_twice_writes_nothing_twice(
    agents_pool: Pool, owner: User, nc: NATS, subscribed: str
) -> None:
    session = await seed_session(agents_pool, owner.id, "uk_reseller")
    js = nc.jetstream()
    assert await process_session(OFFLINE, agents_pool, js, session.id) is Outcome.DONE
    assert await process_session(OFFLINE, agents_pool, js, session.id) is Outcome.ALREADY_DONE
    assert len(await leads.list_for_owner(agents_pool, owner.id, session_id=session.id)) == 1
    assert len(await notifications.list_for_owner(agents_pool, owner.id)) == 1
    assert len(await outbox(agents_pool, subscribed)) == 3


async def test_a_trigger_that_read_the_session_before_another_run_finished_it_changes_nothing(
    agents_pool: Pool, owner: User, nc: NATS, subscribed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two triggers of one session (``ready`` where nobody diarizes, and ``diarized``): the second read the
    # session while the first still ran, and marked it running after the first had finished it. The
    # session went back from done to running (a client saw "completed" with the agents "running"), and
    # the second run stored and announced everything again: webhooks, notification, push, twice.
    session = await seed_session(agents_pool, owner.id, "uk_reseller")
    js = nc.jetstream()
    stale = await sessions.get_for_worker(agents_pool, session.id)
    assert await process_session(OFFLINE, agents_pool, js, session.id) is Outcome.DONE

    async def read_before_the_first_run_finished(pool: Pool, session_id: str) -> object:
        monkeypatch.undo()  # only this read is stale
        return stale

    monkeypatch.setattr(sessions, "get_for_worker", read_before_the_first_run_finished)
    assert await process_session(OFFLINE, agents_pool, js, session.id) is Outcome.ALREADY_DONE
    done = await sessions.get(agents_pool, owner.id, session.id)
    assert done is not None and done.agents_status == "done" and done.status == "completed"
    assert len(await notifications.list_for_owner(agents_pool, owner.id)) == 1
    assert len(await outbox(agents_pool, subscribed)) == 3


async def test_a_call_without_leads_writes_no_lead_rows(
    agents_pool: Pool, owner: User, nc: NATS, subscribed: str
) -> None:
    session = await seed_session(agents_pool, owner.id, "internal_standup")
    assert await process_session(OFFLINE, agents_pool, nc.jetstream(), session.id) is Outcome.DONE
    assert await leads.list_for_owner(agents_pool, owner.id, session_id=session.id) == []
    assert await notifications.list_for_owner(agents_pool, owner.id) == []
    assert sorted(k for k, _ in await outbox(agents_pool, subscribed)) == [
        "session.completed",
        "transcript.finalized",
    ]
    assert await summaries.get(agents_pool, owner.id, session.id) is not None


async def test_crewai_results_are_stored_with_their_engine_and_fallbacks_are_recorded(
    agents_pool: Pool, owner: User, nc: NATS
) -> None:
    session = await seed_session(agents_pool, owner.id, "saas_demo")

    def leads_broken(role: str, prompt: str) -> str:
        return "no json here" if role == LEAD_AGENT else good(role, prompt)

    success, fallback = runs_counted("success"), runs_counted("fallback")
    outcome = await process_session(
        OFFLINE, agents_pool, nc.jetstream(), session.id, llm=scripted(leads_broken)
    )
    assert outcome is Outcome.DONE
    assert grew(fallback, runs_counted("fallback")) == {
        "leads": 1.0,
        "events": 0.0,
        "summary": 0.0,
        "email": 0.0,
    }
    assert grew(success, runs_counted("success")) == {
        "leads": 0.0,
        "events": 1.0,
        "summary": 1.0,
        "email": 1.0,
    }
    (lead,) = await leads.list_for_owner(agents_pool, owner.id, session_id=session.id)
    assert lead.engine == "offline"
    summary = await summaries.get(agents_pool, owner.id, session.id)
    assert (
        summary is not None
        and summary.engine == "crewai"
        and summary.abstract == "Dana wants fleet tracking."
    )
    runs = {r.step: r for r in await agent_runs.list_for_session(agents_pool, owner.id, session.id)}
    assert runs["leads"].status == "fallback" and "malformed output twice" in (runs["leads"].error or "")
    assert runs["summary"].engine == "crewai" and runs["summary"].status == "ok"


async def test_a_missing_session_is_skipped(agents_pool: Pool, nc: NATS) -> None:
    assert await process_session(OFFLINE, agents_pool, nc.jetstream(), "nosuchsession") is Outcome.MISSING


async def test_a_lead_is_never_stored_without_its_announcements(
    agents_pool: Pool, owner: User, nc: NATS, subscribed: str
) -> None:
    """The outbox insert fails (a real trigger in the database): the whole run rolls back."""
    await agents_pool.execute(
        """CREATE OR REPLACE FUNCTION agents_test_fail_outbox() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$ LANGUAGE plpgsql"""
    )
    await agents_pool.execute(
        f"""CREATE TRIGGER agents_test_fail_outbox BEFORE INSERT ON webhook_deliveries FOR EACH ROW
            WHEN (NEW.owner_id = '{owner.id}') EXECUTE FUNCTION agents_test_fail_outbox()"""
    )
    try:
        session = await seed_session(agents_pool, owner.id, "saas_demo")
        failure = runs_counted("failure")
        assert await process_session(OFFLINE, agents_pool, nc.jetstream(), session.id) is Outcome.FAILED
        assert grew(failure, runs_counted("failure")) == dict.fromkeys(STEPS, 1.0)
    finally:
        await agents_pool.execute("DROP TRIGGER agents_test_fail_outbox ON webhook_deliveries")
    assert await leads.list_for_owner(agents_pool, owner.id, session_id=session.id) == []
    assert await notifications.list_for_owner(agents_pool, owner.id) == []
    assert await summaries.get(agents_pool, owner.id, session.id) is None
    failed = await sessions.get(agents_pool, owner.id, session.id)
    assert (
        failed is not None
        and failed.agents_status == "failed"
        and "outbox unavailable" in (failed.error or "")
    )
    # Once the outbox works again, a new trigger finishes the job.
    assert await process_session(OFFLINE, agents_pool, nc.jetstream(), session.id) is Outcome.DONE
    assert len(await outbox(agents_pool, subscribed)) == 3
