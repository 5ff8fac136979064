from __future__ import annotations

import uuid

from persistence.db import Pool
from persistence.repositories import api_keys
from persistence.repositories.users import User


async def test_api_keys_are_owned(db_pool: Pool, owner_a: User, owner_b: User) -> None:
    key_hash = uuid.uuid4().hex
    key = await api_keys.create(db_pool, owner_a.id, "ci", "ayk_ab12", key_hash, ["listen", "read"])
    assert key.scopes == ["listen", "read"] and key.revoked_at is None
    assert await api_keys.find_active_by_hash(db_pool, key_hash) == key
    assert await api_keys.get(db_pool, owner_a.id, key.id) == key
    assert await api_keys.get(db_pool, owner_b.id, key.id) is None
    assert await api_keys.list_for_owner(db_pool, owner_b.id) == []
    assert not await api_keys.revoke(db_pool, owner_b.id, key.id)  # not B's
    await api_keys.touch(db_pool, key.id)
    touched = await api_keys.get(db_pool, owner_a.id, key.id)
    assert touched is not None and touched.last_used_at is not None
    assert await api_keys.revoke(db_pool, owner_a.id, key.id)
    assert await api_keys.find_active_by_hash(db_pool, key_hash) is None
    assert await api_keys.list_for_owner(db_pool, owner_a.id) == []
    assert len(await api_keys.list_for_owner(db_pool, owner_a.id, include_revoked=True)) == 1
