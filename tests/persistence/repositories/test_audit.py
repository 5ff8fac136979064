from __future__ import annotations

from persistence.db import Pool
from persistence.repositories import audit
from persistence.repositories.users import User


async def test_audit_entries(db_pool: Pool, owner_a: User, owner_b: User) -> None:
    entry = await audit.record(
        db_pool, owner_a.id, f"user:{owner_a.id}", "session.delete", "ses_1", {"why": "test"}
    )
    listed = await audit.list_for_owner(db_pool, owner_a.id)
    assert [(e.id, e.action, e.detail) for e in listed] == [(entry, "session.delete", {"why": "test"})]
    assert await audit.list_for_owner(db_pool, owner_b.id) == []
