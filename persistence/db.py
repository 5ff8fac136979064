"""The one place that opens database connections: asyncpg, with JSON/JSONB columns as Python objects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"
# A connection of our own, or one acquired from a pool (a proxy with the same methods).
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
# Repositories accept either: a pool (each statement on its own) or a connection (the caller's transaction).
Db: TypeAlias = "asyncpg.Pool[asyncpg.Record] | Connection"

# Failures that pass: the network or the server went away, or the server is restarting, shutting down,
# out of connections or resources, or rolled the transaction back (serialization, deadlock). A consumer
# that meets one retries or leaves its message unacknowledged; it never drops the message.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.OperatorInterventionError,  # the database system is starting up / shutting down / crashed
    asyncpg.InsufficientResourcesError,  # too many connections, disk full
    asyncpg.TransactionRollbackError,  # serialization failure, deadlock detected
)


async def _init_connection(conn: Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class PoolMetrics(Collector):
    """``ayka_db_pool_size`` and ``ayka_db_pool_in_use``, read from this process's open pools at scrape
    time (summed: a process normally has one)."""

    def __init__(self) -> None:
        self.pools: list[Pool] = []  # asyncpg pools take no weak references; closed ones are dropped

    def add(self, pool: Pool) -> None:
        self.pools.append(pool)

    def collect(self) -> Iterator[Metric]:
        self.pools = [pool for pool in self.pools if not pool.is_closing()]
        size = GaugeMetricFamily(
            "ayka_db_pool_size", "Connections the database pools may open (their max size)."
        )
        in_use = GaugeMetricFamily("ayka_db_pool_in_use", "Database connections acquired from the pools now.")
        size.add_metric([], sum(pool.get_max_size() for pool in self.pools))
        in_use.add_metric([], sum(pool.get_size() - pool.get_idle_size() for pool in self.pools))
        yield size
        yield in_use


POOL_METRICS = PoolMetrics()
REGISTRY.register(POOL_METRICS)


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10, **kwargs: Any) -> Pool:
    """Open a pool; ``kwargs`` go to ``asyncpg.create_pool`` (timeouts, ``command_timeout``)."""
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, **kwargs
    )
    assert pool is not None
    POOL_METRICS.add(pool)
    return pool


async def connect(dsn: str, **kwargs: Any) -> asyncpg.Connection[asyncpg.Record]:
    """One connection outside a pool (migrations, admin tasks), with the same codecs."""
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(dsn, **kwargs)
    await _init_connection(conn)
    return conn
