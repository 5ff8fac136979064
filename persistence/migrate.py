"""Apply plain SQL migrations (``persistence/migrations/NNNN_name.sql``) in name order.

Each file runs in its own transaction and is recorded in ``schema_migrations`` with its checksum; the
whole run holds a PostgreSQL advisory lock, so any number of processes may start at once. Running it
again applies nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from persistence.db import Connection, Pool, connect

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# An arbitrary fixed key: every AYKA process migrating the same database contends for it.
ADVISORY_LOCK_KEY = 0x61796B61_6D696772  # "aykamigr"


class MigrationError(RuntimeError):
    """A migration failed, or an applied migration file was changed afterwards."""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    return [Migration(path.name, path.read_text()) for path in sorted(directory.glob("*.sql"))]


async def migrate(pool: Pool, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply what is missing; return the names applied by this call."""
    async with pool.acquire() as conn:
        return await migrate_connection(conn, directory)


async def migrate_dsn(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    conn = await connect(dsn)
    try:
        return await migrate_connection(conn, directory)
    finally:
        await conn.close()


async def migrate_connection(conn: Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    migrations = load_migrations(directory)
    await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   name text PRIMARY KEY,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        rows = await conn.fetch("SELECT name, checksum FROM schema_migrations")
        applied = {row["name"]: row["checksum"] for row in rows}
        done: list[str] = []
        for migration in migrations:
            known = applied.get(migration.name)
            if known is not None:
                if known != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.name} was changed after it was applied: "
                        "add a new migration file instead of editing an applied one"
                    )
                continue
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                        migration.name,
                        migration.checksum,
                    )
            except MigrationError:
                raise
            except Exception as exc:
                raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
            done.append(migration.name)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
