from __future__ import annotations

import pytest

from persistence.db import Pool
from persistence.repositories import users


async def test_create_get_and_email_is_case_insensitive_unique(db_pool: Pool, owner_a: users.User) -> None:
    assert await users.get(db_pool, owner_a.id) == owner_a
    found = await users.get_by_email(db_pool, owner_a.email.upper())
    assert found is not None and found.id == owner_a.id
    with pytest.raises(users.EmailTaken):
        await users.create(db_pool, owner_a.email.upper(), "h")
    assert await users.get(db_pool, "usr_missing") is None


async def test_update_and_delete(db_pool: Pool, owner_a: users.User) -> None:
    assert await users.update_password(db_pool, owner_a.id, "new-hash")
    renamed = await users.update_name(db_pool, owner_a.id, "Ada")
    assert renamed is not None and renamed.name == "Ada" and renamed.password_hash == "new-hash"
    assert await users.delete(db_pool, owner_a.id)
    assert await users.get(db_pool, owner_a.id) is None
    assert not await users.delete(db_pool, owner_a.id)
    assert not await users.update_password(db_pool, owner_a.id, "x")
