from __future__ import annotations

from persistence.db import Pool
from persistence.repositories import agent_runs, summaries
from persistence.repositories.users import User
from tests.persistence.conftest import MakeSession


async def test_summary_upsert_and_owner(
    db_pool: Pool, owner_a: User, owner_b: User, make_session: MakeSession
) -> None:
    session = await make_session(owner_a.id)
    items = [{"text": "Send the quote", "owner": "Maria"}]
    await summaries.upsert(db_pool, owner_a.id, session.id, "First", ["a"], [], "offline")
    second = await summaries.upsert(
        db_pool, owner_a.id, session.id, "Call about pricing", ["b", "c"], items, "crewai"
    )
    assert await summaries.get(db_pool, owner_a.id, session.id) == second
    assert second.bullets == ["b", "c"] and second.action_items == items and second.engine == "crewai"
    assert await summaries.get(db_pool, owner_b.id, session.id) is None


async def test_agent_runs(db_pool: Pool, owner_a: User, owner_b: User, make_session: MakeSession) -> None:
    session = await make_session(owner_a.id)
    await agent_runs.record(db_pool, session.id, "leads", "crewai", "fallback", "malformed JSON twice")
    await agent_runs.record(db_pool, session.id, "leads", "offline", "ok")
    runs = await agent_runs.list_for_session(db_pool, owner_a.id, session.id)
    assert [(r.engine, r.status, r.error) for r in runs] == [
        ("crewai", "fallback", "malformed JSON twice"),
        ("offline", "ok", None),
    ]
    assert await agent_runs.list_for_session(db_pool, owner_b.id, session.id) == []
