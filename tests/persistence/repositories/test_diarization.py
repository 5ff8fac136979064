from __future__ import annotations

from persistence.db import Pool
from persistence.repositories import diarization
from persistence.repositories.diarization import Turn
from persistence.repositories.users import User
from tests.persistence.conftest import MakeSession


async def test_replace_and_list_turns(
    db_pool: Pool, owner_a: User, owner_b: User, make_session: MakeSession
) -> None:
    session = await make_session(owner_a.id)
    await diarization.replace_turns(db_pool, session.id, [Turn(2.0, 3.0, 1), Turn(0.0, 1.5, 0)])
    assert await diarization.list_turns(db_pool, owner_a.id, session.id) == [
        Turn(0.0, 1.5, 0),
        Turn(2.0, 3.0, 1),
    ]
    await diarization.replace_turns(db_pool, session.id, [Turn(0.0, 3.0, 0)])
    assert await diarization.list_turns(db_pool, owner_a.id, session.id) == [Turn(0.0, 3.0, 0)]
    assert await diarization.list_turns(db_pool, owner_b.id, session.id) == []
    async with db_pool.acquire() as conn, conn.transaction():  # inside the caller's transaction
        await diarization.replace_turns(conn, session.id, [])
    assert await diarization.list_turns(db_pool, owner_a.id, session.id) == []
