from __future__ import annotations

from datetime import UTC, datetime, timedelta

from persistence.db import Pool
from persistence.repositories import events
from persistence.repositories.events import EventFields
from persistence.repositories.users import User
from tests.persistence.conftest import MakeSession


async def test_events_are_owned_and_filtered(
    db_pool: Pool, owner_a: User, owner_b: User, make_session: MakeSession
) -> None:
    session = await make_session(owner_a.id)
    soon = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    demo = await events.create(
        db_pool,
        owner_a.id,
        session.id,
        EventFields("Demo", soon, soon + timedelta(hours=1), "Europe/Madrid"),
        "offline",
    )
    undated = await events.create(db_pool, owner_a.id, session.id, EventFields("Some webinar"), "offline")
    assert demo.starts_at == soon and demo.timezone == "Europe/Madrid"
    assert [e.id for e in await events.list_for_owner(db_pool, owner_a.id)] == [demo.id, undated.id]
    assert [e.id for e in await events.list_for_owner(db_pool, owner_a.id, since=soon)] == [demo.id]
    assert await events.list_for_owner(db_pool, owner_a.id, since=soon + timedelta(days=1)) == []
    assert len(await events.list_for_owner(db_pool, owner_a.id, session_id=session.id)) == 2
    assert await events.get(db_pool, owner_b.id, demo.id) is None
    assert await events.list_for_owner(db_pool, owner_b.id) == []
    assert not await events.delete(db_pool, owner_b.id, demo.id)
    assert await events.delete(db_pool, owner_a.id, demo.id)
    assert await events.replace_for_session(db_pool, session.id) == 1
