"""The one place that opens database connections: asyncpg, with JSON/JSONB columns as Python objects."""

from __future__ import annotations

import json
from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"
# A connection of our own, or one acquired from a pool (a proxy with the same methods).
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
# Repositories accept either: a pool (each statement on its own) or a connection (the caller's transaction).
Db: TypeAlias = "asyncpg.Pool[asyncpg.Record] | Connection"


async def _init_connection(conn: Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10, **kwargs: Any) -> Pool:
    """Open a pool; ``kwargs`` go to ``asyncpg.create_pool`` (timeouts, ``command_timeout``)."""
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, **kwargs
    )
    assert pool is not None
    return pool


async def connect(dsn: str, **kwargs: Any) -> asyncpg.Connection[asyncpg.Record]:
    """One connection outside a pool (migrations, admin tasks), with the same codecs."""
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(dsn, **kwargs)
    await _init_connection(conn)
    return conn
