"""The agents worker on the real bus: triggers from EVENTS, live leads from TRANSCRIPTS."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from nats.aio.client import Client as NATS

from agents.worker import run_agents_worker
from ayka import bus
from ayka.settings import DiarizeBackend, Settings
from persistence.db import Pool
from persistence.repositories import leads, sessions
from persistence.repositories.sessions import SessionStatus
from persistence.repositories.users import User
from tests.agents.scripted import good, scripted
from tests.agents.seed import seed_session


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.fixture
async def worker(agents_pool: Pool, nc: NATS) -> AsyncIterator[None]:
    stop = asyncio.Event()
    settings = Settings(diarize_backend=DiarizeBackend.OFF)  # session.ready also triggers a run
    task = asyncio.create_task(run_agents_worker(settings, nc, agents_pool, stop))
    await asyncio.sleep(0.3)  # consumers created
    yield
    stop.set()
    await asyncio.wait_for(task, 10)


async def status_is(pool: Pool, owner: User, session_id: str, status: str) -> bool:
    row = await sessions.get(pool, owner.id, session_id)
    return row is not None and row.agents_status == status


async def publish(nc: NATS, subject: str, session_id: str, owner_id: str) -> None:
    event = bus.SessionEvent(session_id=session_id, owner_id=owner_id)
    await nc.jetstream().publish(bus.event_subject(subject, session_id), event.model_dump_json().encode())


async def test_session_diarized_runs_the_agents(
    agents_pool: Pool, owner: User, nc: NATS, worker: None
) -> None:
    session = await seed_session(agents_pool, owner.id, "generic_speakers")
    await publish(nc, bus.SESSION_DIARIZED, session.id, owner.id)
    await eventually(lambda: status_is(agents_pool, owner, session.id, "done"))
    found = await leads.list_for_owner(agents_pool, owner.id, session_id=session.id)
    assert {lead.person for lead in found} == {"Raj Patel", "Sofia Alvarez"}


async def test_session_ready_runs_them_when_diarization_is_off(
    agents_pool: Pool, owner: User, nc: NATS, worker: None
) -> None:
    session = await seed_session(agents_pool, owner.id, "uk_reseller")
    await publish(nc, bus.SESSION_READY, session.id, owner.id)
    await eventually(lambda: status_is(agents_pool, owner, session.id, "done"))


async def test_ready_and_diarized_at_once_run_the_engine_once(
    agents_pool: Pool, owner: User, nc: NATS
) -> None:
    # Where nobody diarizes, both post-call events trigger the agents, each on its own consumer loop: the
    # engine (an LLM's calls, paid for) ran twice when they came together.
    def slow(role: str, prompt: str) -> str:
        time.sleep(0.05)  # long enough for the second trigger to arrive while the first runs
        return good(role, prompt)

    llm = scripted(slow)
    stop = asyncio.Event()
    settings = Settings(diarize_backend=DiarizeBackend.OFF)
    task = asyncio.create_task(run_agents_worker(settings, nc, agents_pool, stop, llm=llm))
    try:
        await asyncio.sleep(0.3)  # consumers created
        once = await seed_session(agents_pool, owner.id, "saas_demo")
        await publish(nc, bus.SESSION_DIARIZED, once.id, owner.id)
        await eventually(lambda: status_is(agents_pool, owner, once.id, "done"))
        calls_of_one_run = llm.calls
        assert calls_of_one_run > 0

        both = await seed_session(agents_pool, owner.id, "saas_demo")
        await publish(nc, bus.SESSION_READY, both.id, owner.id)
        await publish(nc, bus.SESSION_DIARIZED, both.id, owner.id)
        await eventually(lambda: status_is(agents_pool, owner, both.id, "done"))
        await asyncio.sleep(1.0)  # a second run would be calling the LLM now
        assert llm.calls == 2 * calls_of_one_run
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_live_leads_follow_the_finals_and_are_finalized_at_the_end(
    agents_pool: Pool, owner: User, nc: NATS, worker: None
) -> None:
    session_id = f"live{uuid.uuid4().hex[:10]}"
    await sessions.create(
        agents_pool, session_id, owner.id, status=SessionStatus.LIVE, options={"live_leads": True}
    )
    js = nc.jetstream()
    lines = [
        (1, "Hi, I'm Olivia Grant from Fenwick & Sons."),
        (0, "How can we help?"),
        (1, "We want to buy licences for twelve branches. Our budget is £25,000 and we start next month."),
    ]
    for index, (speaker, text) in enumerate(lines):
        words = [
            bus.Word(word=w, punctuated_word=w, start_s=index * 5 + i * 0.3, end_s=index * 5 + i * 0.3 + 0.25,
                     confidence=0.9, speaker=speaker)
            for i, w in enumerate(text.split())
        ]  # fmt: skip
        result = bus.TranscriptResult(
            session_id=session_id, is_final=True, index=index, start_s=words[0].start_s,
            end_s=words[-1].end_s, transcript=text, words=words,
        )  # fmt: skip
        await js.publish(bus.final_subject(session_id), result.model_dump_json().encode())

    async def live_lead() -> bool:
        rows = await leads.list_for_owner(agents_pool, owner.id, session_id=session_id)
        return len(rows) == 1 and rows[0].budget == "£25,000"

    await eventually(live_lead)
    (during,) = await leads.list_for_owner(agents_pool, owner.id, session_id=session_id)
    assert not during.finalized and during.person == "Olivia Grant"

    # The call ends: the post-call run replaces the live lead with a finalized one.
    for index, (speaker, text) in enumerate(lines):
        await agents_pool.execute(
            "INSERT INTO segments (session_id, idx, start_s, end_s, text, speaker)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            session_id, index, index * 5.0, index * 5.0 + 4, text, speaker,
        )  # fmt: skip
    await publish(nc, bus.SESSION_DIARIZED, session_id, owner.id)
    await eventually(lambda: status_is(agents_pool, owner, session_id, "done"))
    (after,) = await leads.list_for_owner(agents_pool, owner.id, session_id=session_id)
    assert after.finalized and after.id != during.id and after.budget == "£25,000"
