from __future__ import annotations

from persistence.db import Pool
from persistence.repositories import notifications, push_tokens
from persistence.repositories.users import User


async def test_notifications_owned_and_read(db_pool: Pool, owner_a: User, owner_b: User) -> None:
    first = await notifications.create(
        db_pool, owner_a.id, "lead.finalized", "New lead", "Maria", {"lead_id": "l1"}
    )
    second = await notifications.create(db_pool, owner_a.id, "webhook.disabled", "Endpoint disabled")
    assert not first.read and first.data == {"lead_id": "l1"}
    assert [n.id for n in await notifications.list_for_owner(db_pool, owner_a.id)] == [second.id, first.id]
    assert await notifications.list_for_owner(db_pool, owner_b.id) == []
    assert await notifications.mark_read(db_pool, owner_b.id, first.id) is None
    read = await notifications.mark_read(db_pool, owner_a.id, first.id)
    assert read is not None and read.read
    unread = await notifications.list_for_owner(db_pool, owner_a.id, unread_only=True)
    assert [n.id for n in unread] == [second.id]


async def test_push_tokens(db_pool: Pool, owner_a: User, owner_b: User) -> None:
    await push_tokens.add(db_pool, owner_a.id, "ExponentPushToken[abc]", "ios")
    updated = await push_tokens.add(db_pool, owner_a.id, "ExponentPushToken[abc]", "android")
    assert updated.platform == "android"
    assert [t.token for t in await push_tokens.list_for_owner(db_pool, owner_a.id)] == [
        "ExponentPushToken[abc]"
    ]
    assert await push_tokens.list_for_owner(db_pool, owner_b.id) == []
    assert not await push_tokens.remove(db_pool, owner_b.id, "ExponentPushToken[abc]")
    assert await push_tokens.remove(db_pool, owner_a.id, "ExponentPushToken[abc]")
