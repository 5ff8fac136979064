from __future__ import annotations

from persistence.db import Pool
from persistence.repositories import segments, speakers
from persistence.repositories.users import User
from tests.persistence.conftest import MakeSession


async def test_default_names_rename_and_owner(
    db_pool: Pool, owner_a: User, owner_b: User, make_session: MakeSession
) -> None:
    session = await make_session(owner_a.id)
    await segments.apply_final(db_pool, session.id, 0, 0.0, 1.0, "hi", [], speaker=2)
    await speakers.ensure(db_pool, session.id, [0, 0, 1])
    listed = await speakers.list_for_session(db_pool, owner_a.id, session.id)
    assert [(s.label, s.name) for s in listed] == [(0, "Speaker 1"), (1, "Speaker 2"), (2, "Speaker 3")]
    renamed = await speakers.rename(db_pool, owner_a.id, session.id, 1, "Maria")
    assert renamed is not None and renamed.name == "Maria"
    await speakers.ensure(db_pool, session.id, [1])  # keeps the name
    assert await speakers.names_for_worker(db_pool, session.id) == {0: "Speaker 1", 1: "Maria"}
    assert await speakers.rename(db_pool, owner_b.id, session.id, 1, "Hacked") is None
    assert await speakers.list_for_session(db_pool, owner_b.id, session.id) == []
    assert (await speakers.list_for_session(db_pool, owner_a.id, session.id))[1].name == "Maria"
