"""Helpers for the persistence tests: two owners (A and B) and sessions belonging to them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from persistence.db import Pool, create_pool
from persistence.repositories import sessions, users
from tests.fixtures.postgres import MakeDatabase

MakeSession = Callable[[str], Awaitable[sessions.Session]]


async def _make_user(pool: Pool) -> users.User:
    return await users.create(pool, f"{uuid.uuid4().hex[:10]}@example.com", "argon2-hash", "Someone")


@pytest.fixture
async def owner_a(db_pool: Pool) -> users.User:
    return await _make_user(db_pool)


@pytest.fixture
async def owner_b(db_pool: Pool) -> users.User:
    return await _make_user(db_pool)


@pytest.fixture
def make_session(db_pool: Pool) -> MakeSession:
    async def make(owner_id: str) -> sessions.Session:
        session = await sessions.create(db_pool, f"ses_{uuid.uuid4().hex[:16]}", owner_id, title="Call")
        assert session is not None
        return session

    return make


@pytest.fixture(scope="module")
async def isolated_pool(make_database: MakeDatabase) -> AsyncIterator[Pool]:
    """A pool on a database of the module's own. A test module that defines
    ``db_pool = isolated_pool`` gets it everywhere (owners, sessions): use it where rows would disturb
    other tests sharing the database (pending webhook deliveries that a delivery worker would pick up)."""
    pool = await create_pool(await make_database(), min_size=1, max_size=4)
    yield pool
    await pool.close()
