"""Erasing a user or a session leaves no row behind (except audit entries, detached from the user)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from persistence.db import Pool
from persistence.repositories import (
    agent_runs,
    api_keys,
    audit,
    deliveries,
    diarization,
    events,
    leads,
    notifications,
    push_tokens,
    refresh_tokens,
    segments,
    sessions,
    speakers,
    summaries,
    users,
    webhooks,
)
from persistence.repositories.diarization import Turn
from persistence.repositories.events import EventFields
from persistence.repositories.leads import LeadFields
from persistence.repositories.users import User
from tests.persistence.conftest import MakeSession, isolated_pool

# Pending deliveries here must not reach delivery workers tested elsewhere on the shared database.
db_pool = isolated_pool

OWNED_BY_USER = {
    "api_keys": "owner_id", "refresh_tokens": "user_id", "sessions": "owner_id", "leads": "owner_id",
    "events": "owner_id", "summaries": "owner_id", "webhook_endpoints": "owner_id",
    "webhook_deliveries": "owner_id", "notifications": "owner_id", "push_tokens": "owner_id",
}  # fmt: skip
BY_SESSION = ["segments", "speakers", "diarization_turns", "leads", "events", "summaries", "agent_runs"]


async def _fill(pool: Pool, user: User, session_id: str) -> None:
    await api_keys.create(pool, user.id, "k", "ayk_x", f"hash-{session_id}", ["read"])
    await refresh_tokens.issue(pool, user.id, "f", f"rt-{session_id}", datetime.now(UTC) + timedelta(days=1))
    await segments.apply_final(pool, session_id, 0, 0.0, 1.0, "hi", [], speaker=0)
    await speakers.rename(pool, user.id, session_id, 0, "Ann")
    await diarization.replace_turns(pool, session_id, [Turn(0.0, 1.0, 0)])
    await leads.create(pool, user.id, session_id, LeadFields(person="Ann"), "offline")
    await events.create(pool, user.id, session_id, EventFields("Demo"), "offline")
    await summaries.upsert(pool, user.id, session_id, "a", [], [], "offline")
    await agent_runs.record(pool, session_id, "leads", "offline", "ok")
    endpoint = await webhooks.create(pool, user.id, "https://x.test", ["lead.finalized"], "whsec_x")
    await deliveries.enqueue_to_endpoint(pool, user.id, endpoint.id, "lead.finalized", {})
    await notifications.create(pool, user.id, "k", "t")
    await push_tokens.add(pool, user.id, f"tok-{session_id}", "ios")


async def _count(pool: Pool, table: str, column: str, value: str) -> int:
    count: int = await pool.fetchval(f"SELECT count(*) FROM {table} WHERE {column} = $1", value)
    return count


async def test_erasing_a_session(db_pool: Pool, owner_a: User, make_session: MakeSession) -> None:
    gone, kept = await make_session(owner_a.id), await make_session(owner_a.id)
    await _fill(db_pool, owner_a, gone.id)
    await segments.apply_final(db_pool, kept.id, 0, 0.0, 1.0, "stays", [])
    assert await sessions.delete(db_pool, owner_a.id, gone.id) is not None
    for table in BY_SESSION:
        assert await _count(db_pool, table, "session_id", gone.id) == 0, table
    assert await _count(db_pool, "segments", "session_id", kept.id) == 1


async def test_erasing_a_user(db_pool: Pool, owner_a: User, owner_b: User, make_session: MakeSession) -> None:
    mine, theirs = await make_session(owner_a.id), await make_session(owner_b.id)
    await _fill(db_pool, owner_a, mine.id)
    await _fill(db_pool, owner_b, theirs.id)
    entry = await audit.record(db_pool, owner_a.id, f"user:{owner_a.id}", "user.erase", owner_a.id)
    assert await users.delete(db_pool, owner_a.id)
    for table, column in OWNED_BY_USER.items():
        assert await _count(db_pool, table, column, owner_a.id) == 0, table
        assert await _count(db_pool, table, column, owner_b.id) >= 1, table  # B untouched
    for table in BY_SESSION:
        assert await _count(db_pool, table, "session_id", mine.id) == 0, table
    kept = await audit.list_for_target(db_pool, owner_a.id)
    assert [(e.id, e.owner_id) for e in kept] == [(entry, None)]
