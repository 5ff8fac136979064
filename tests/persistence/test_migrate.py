from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from persistence.db import connect
from persistence.migrate import MigrationError, load_migrations, migrate_dsn
from tests.fixtures.postgres import MakeDatabase

EXPECTED_TABLES = {
    "users", "api_keys", "refresh_tokens", "sessions", "segments", "speakers", "diarization_turns",
    "leads", "events", "summaries", "agent_runs", "webhook_endpoints", "webhook_deliveries",
    "notifications", "push_tokens", "audit_log", "schema_migrations",
}  # fmt: skip


async def _tables(dsn: str) -> set[str]:
    conn = await connect(dsn)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row["tablename"] for row in rows}
    finally:
        await conn.close()


async def test_migrate_applies_everything_once(make_database: MakeDatabase) -> None:
    dsn = await make_database(migrated=False)
    first = await migrate_dsn(dsn)
    assert first == [m.name for m in load_migrations()]
    assert await _tables(dsn) == EXPECTED_TABLES
    assert await migrate_dsn(dsn) == []  # idempotent


async def test_concurrent_migrations_apply_once(make_database: MakeDatabase) -> None:
    dsn = await make_database(migrated=False)
    results = await asyncio.gather(*(migrate_dsn(dsn) for _ in range(4)))
    applied = [names for names in results if names]
    assert len(applied) == 1 and applied[0] == [m.name for m in load_migrations()]
    conn = await connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(load_migrations())
    finally:
        await conn.close()


async def test_failed_migration_leaves_nothing_and_changed_file_is_refused(
    make_database: MakeDatabase, tmp_path: Path
) -> None:
    dsn = await make_database(migrated=False)
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (id int);")
    (tmp_path / "0002_b.sql").write_text("CREATE TABLE b (id int); SELECT no_such_function();")
    with pytest.raises(MigrationError, match=r"0002_b\.sql failed"):
        await migrate_dsn(dsn, tmp_path)
    assert await _tables(dsn) == {"a", "schema_migrations"}  # b rolled back with its file
    (tmp_path / "0002_b.sql").write_text("CREATE TABLE b (id int);")
    assert await migrate_dsn(dsn, tmp_path) == ["0002_b.sql"]
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (id bigint);")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate_dsn(dsn, tmp_path)
