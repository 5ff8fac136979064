"""The database pool: the gauges the AykaDbPoolSaturated alert reads, and which failures pass."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from prometheus_client import REGISTRY, generate_latest

from persistence.db import connect, create_pool
from persistence.recorder import retry_transient


def _value(name: str) -> float:
    value = REGISTRY.get_sample_value(name)
    assert value is not None, f"{name} is not exported"
    return value


async def test_pool_gauges_follow_acquired_connections(database_url: str) -> None:
    size_before, in_use_before = _value("ayka_db_pool_size"), _value("ayka_db_pool_in_use")
    pool = await create_pool(database_url, min_size=1, max_size=3)
    try:
        assert _value("ayka_db_pool_size") == size_before + 3
        assert _value("ayka_db_pool_in_use") == in_use_before
        async with pool.acquire() as first, pool.acquire() as second:
            await first.fetchval("SELECT 1")
            await second.fetchval("SELECT 1")
            assert _value("ayka_db_pool_in_use") == in_use_before + 2
            scraped = generate_latest().decode()
            assert "# TYPE ayka_db_pool_in_use gauge" in scraped
        assert _value("ayka_db_pool_in_use") == in_use_before
    finally:
        await pool.close()
    assert _value("ayka_db_pool_size") == size_before  # a closed pool no longer counts


async def test_a_store_refused_for_too_many_connections_is_retried_not_dropped(database_url: str) -> None:
    # The recorder acknowledges a message only after storing it, and drops one it cannot store. The
    # server's passing refusals (too many connections, starting up, shutting down) were not counted as
    # passing, so a final that met one was dropped.
    admin = await connect(database_url)
    role = f"limited_{uuid.uuid4().hex[:8]}"
    await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw' CONNECTION LIMIT 1")
    holder = await connect(database_url, user=role, password="pw")
    attempts: list[type[BaseException] | None] = []

    async def store() -> None:
        try:
            conn = await connect(database_url, user=role, password="pw")
        except Exception as exc:
            attempts.append(type(exc))
            if len(attempts) == 2:
                await holder.close()  # the server has room again
            raise
        attempts.append(None)
        await conn.close()

    try:
        await asyncio.wait_for(retry_transient(store, "a final"), 30)
    finally:
        await holder.close()
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()
    assert attempts == [asyncpg.TooManyConnectionsError, asyncpg.TooManyConnectionsError, None]
