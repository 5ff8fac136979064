"""The pool gauges that the AykaDbPoolSaturated alert reads, as Prometheus scrapes them."""

from __future__ import annotations

from prometheus_client import REGISTRY, generate_latest

from persistence.db import create_pool


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
