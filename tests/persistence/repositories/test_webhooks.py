from __future__ import annotations

from datetime import UTC, datetime, timedelta

from persistence.db import Pool
from persistence.repositories import webhooks
from persistence.repositories.users import User


async def test_endpoint_crud_is_owned(db_pool: Pool, owner_a: User, owner_b: User) -> None:
    endpoint = await webhooks.create(
        db_pool, owner_a.id, "https://crm.test/hook", ["lead.finalized"], "whsec_one", description="CRM"
    )
    assert endpoint.enabled and endpoint.event_types == ["lead.finalized"]
    assert await webhooks.get(db_pool, owner_b.id, endpoint.id) is None
    assert await webhooks.list_for_owner(db_pool, owner_b.id) == []
    assert await webhooks.update(db_pool, owner_b.id, endpoint.id, url="https://evil.test") is None
    assert (
        await webhooks.rotate_secret(db_pool, owner_b.id, endpoint.id, "whsec_x", datetime.now(UTC)) is None
    )
    assert not await webhooks.delete(db_pool, owner_b.id, endpoint.id)

    changed = await webhooks.update(
        db_pool, owner_a.id, endpoint.id, event_types=["lead.finalized", "session.completed"]
    )
    assert changed is not None and changed.url == endpoint.url and len(changed.event_types) == 2
    now = datetime.now(UTC)
    rotated = await webhooks.rotate_secret(
        db_pool, owner_a.id, endpoint.id, "whsec_two", now + timedelta(hours=24)
    )
    assert rotated is not None and rotated.secret == "whsec_two" and rotated.previous_secret == "whsec_one"
    assert rotated.signing_secrets(now) == ["whsec_two", "whsec_one"]
    assert rotated.signing_secrets(now + timedelta(hours=25)) == ["whsec_two"]

    await webhooks.set_failing_since(db_pool, endpoint.id, now)
    await webhooks.set_failing_since(db_pool, endpoint.id, now + timedelta(hours=1))  # keeps the first
    assert await webhooks.disable(db_pool, endpoint.id, "410 Gone")
    disabled = await webhooks.get_for_worker(db_pool, endpoint.id)
    assert disabled is not None and not disabled.enabled and disabled.failing_since == now
    assert disabled.disabled_reason == "410 Gone"
    enabled = await webhooks.update(db_pool, owner_a.id, endpoint.id, enabled=True)
    assert enabled is not None and enabled.enabled and enabled.disabled_reason is None
    assert enabled.failing_since is None
    assert await webhooks.delete(db_pool, owner_a.id, endpoint.id)
    assert await webhooks.get(db_pool, owner_a.id, endpoint.id) is None
