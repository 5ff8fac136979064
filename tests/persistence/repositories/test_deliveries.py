from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from persistence.db import Pool
from persistence.repositories import deliveries, leads, webhooks
from persistence.repositories.deliveries import DeliveryStatus
from persistence.repositories.leads import LeadFields
from persistence.repositories.users import User
from tests.persistence.conftest import MakeSession, isolated_pool

# Pending deliveries here must not reach delivery workers tested elsewhere on the shared database.
db_pool = isolated_pool

# Far in the future, so that rows other tests leave due are never claimed here.
T0 = datetime(2100, 1, 1, tzinfo=UTC)


async def test_outbox_is_transactional(
    db_pool: Pool, owner_a: User, owner_b: User, make_session: MakeSession
) -> None:
    session = await make_session(owner_a.id)
    crm = await webhooks.create(db_pool, owner_a.id, "https://crm.test/a", ["lead.finalized"], "whsec_a")
    await webhooks.create(db_pool, owner_a.id, "https://other.test/a", ["session.completed"], "whsec_b")
    await webhooks.create(db_pool, owner_b.id, "https://b.test/", ["lead.finalized"], "whsec_c")
    async with db_pool.acquire() as conn:
        try:
            async with conn.transaction():
                lead = await leads.create(
                    conn, owner_a.id, session.id, LeadFields(person="Ann"), "offline", True
                )
                queued = await deliveries.enqueue(conn, owner_a.id, "lead.finalized", {"lead_id": lead.id})
                assert len(queued) == 1 and queued[0].endpoint_id == crm.id
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert await deliveries.list_for_endpoint(db_pool, owner_a.id, crm.id) == []  # rolled back together
    assert await leads.list_for_worker(db_pool, session.id) == []
    queued = await deliveries.enqueue(
        db_pool, owner_a.id, "lead.finalized", {"lead_id": "x"}, webhook_id="msg_1"
    )
    assert [(d.endpoint_id, d.webhook_id, d.payload, d.status) for d in queued] == [
        (crm.id, "msg_1", {"lead_id": "x"}, "pending")
    ]
    assert await deliveries.list_for_endpoint(db_pool, owner_b.id, crm.id) == []
    assert await deliveries.get(db_pool, owner_b.id, queued[0].id) is None
    assert await deliveries.enqueue_to_endpoint(db_pool, owner_b.id, crm.id, "ping", {}) is None


async def test_claim_retry_succeed_and_replay(db_pool: Pool, owner_a: User) -> None:
    endpoint = await webhooks.create(db_pool, owner_a.id, "https://crm.test/r", ["lead.finalized"], "whsec_r")
    made = [
        await deliveries.enqueue_to_endpoint(
            db_pool, owner_a.id, endpoint.id, "lead.finalized", {"n": n}, next_attempt_at=T0
        )
        for n in range(4)
    ]
    ids = {d.id for d in made if d is not None}
    assert all(d is not None and d.next_attempt_at == T0 for d in made)
    early = await deliveries.claim_due(db_pool, T0 - timedelta(seconds=1))
    assert [d for d in early if d.id in ids] == []  # not due yet

    # Two workers at once never get the same delivery.
    first, second = await asyncio.gather(
        deliveries.claim_due(db_pool, T0, limit=3, lease_s=30),
        deliveries.claim_due(db_pool, T0, limit=3, lease_s=30),
    )
    claimed = [d.id for d in first + second if d.id in ids]
    assert sorted(claimed) == sorted(ids) and all(d.status == "delivering" for d in first + second)
    # A worker that crashed holds its claim only until the lease expires.
    assert [d for d in await deliveries.claim_due(db_pool, T0 + timedelta(seconds=10)) if d.id in ids] == []
    again = [d for d in await deliveries.claim_due(db_pool, T0 + timedelta(seconds=31)) if d.id in ids]
    assert len(again) == 4

    one, two, three, _four = sorted(ids)
    assert await deliveries.mark_succeeded(db_pool, one, 200, T0)
    assert await deliveries.mark_failed(
        db_pool, two, status_code=503, error="busy", retry_at=T0 + timedelta(minutes=5)
    )
    assert await deliveries.mark_failed(db_pool, three, status_code=None, error="timeout", retry_at=None)
    got = {d.id: d for d in await deliveries.list_for_endpoint(db_pool, owner_a.id, endpoint.id)}
    assert (
        got[one].status == DeliveryStatus.SUCCEEDED and got[one].delivered_at == T0 and got[one].attempts == 1
    )
    assert got[two].status == DeliveryStatus.PENDING and got[two].last_status_code == 503
    assert got[three].status == DeliveryStatus.FAILED and got[three].last_error == "timeout"

    # The endpoint is disabled: the two still waiting (two, four) stop.
    assert await deliveries.mark_dead_for_endpoint(db_pool, endpoint.id, "endpoint disabled") == 2
    replayed = await deliveries.replay(db_pool, owner_a.id, endpoint.id, three, T0)
    assert replayed is not None and replayed.status == "pending" and replayed.attempts == 0
    assert replayed.webhook_id == got[three].webhook_id  # same message id on replay
    assert await deliveries.replay(db_pool, "usr_other", endpoint.id, three, T0) is None
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert await deliveries.replay_failed_since(db_pool, owner_a.id, endpoint.id, hour_ago, T0) == 2
    assert await deliveries.replay_failed_since(db_pool, "usr_other", endpoint.id, hour_ago, T0) == 0
