from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from persistence.db import Pool
from persistence.repositories import refresh_tokens
from persistence.repositories.users import User


async def test_rotation_is_single_use_and_family_revocation(db_pool: Pool, owner_a: User) -> None:
    expires = datetime.now(UTC) + timedelta(days=30)
    first = await refresh_tokens.issue(db_pool, owner_a.id, "fam1" + owner_a.id, uuid.uuid4().hex, expires)
    assert await refresh_tokens.find_by_hash(db_pool, first.token_hash) == first
    wins = await asyncio.gather(*(refresh_tokens.mark_used(db_pool, owner_a.id, first.id) for _ in range(5)))
    assert sorted(wins) == [False, False, False, False, True]  # exactly one rotation wins
    second = await refresh_tokens.issue(db_pool, owner_a.id, first.family_id, uuid.uuid4().hex, expires)
    assert await refresh_tokens.revoke_family(db_pool, owner_a.id, first.family_id) == 2
    assert not await refresh_tokens.mark_used(db_pool, owner_a.id, second.id)  # revoked
    expired = await refresh_tokens.issue(
        db_pool, owner_a.id, "fam2" + owner_a.id, uuid.uuid4().hex, datetime.now(UTC) - timedelta(seconds=1)
    )
    assert not await refresh_tokens.mark_used(db_pool, owner_a.id, expired.id)
    assert await refresh_tokens.delete_expired(db_pool, datetime.now(UTC)) >= 1
    assert await refresh_tokens.find_by_hash(db_pool, expired.token_hash) is None
    third = await refresh_tokens.issue(db_pool, owner_a.id, "fam3" + owner_a.id, uuid.uuid4().hex, expires)
    assert await refresh_tokens.revoke_all_for_user(db_pool, owner_a.id) == 1
    assert not await refresh_tokens.mark_used(db_pool, owner_a.id, third.id)


async def test_another_user_can_neither_use_nor_revoke_a_token(
    db_pool: Pool, owner_a: User, owner_b: User
) -> None:
    expires = datetime.now(UTC) + timedelta(days=30)
    token = await refresh_tokens.issue(db_pool, owner_a.id, "famB" + owner_a.id, uuid.uuid4().hex, expires)
    assert not await refresh_tokens.mark_used(db_pool, owner_b.id, token.id)
    assert await refresh_tokens.revoke_family(db_pool, owner_b.id, token.family_id) == 0
    assert await refresh_tokens.revoke_all_for_user(db_pool, owner_b.id) == 0
    untouched = await refresh_tokens.find_by_hash(db_pool, token.token_hash)
    assert untouched is not None and untouched.used_at is None and untouched.revoked_at is None
    assert await refresh_tokens.mark_used(db_pool, owner_a.id, token.id)  # still the owner's to use
