from __future__ import annotations

import asyncpg
import pytest

from persistence.db import Pool
from persistence.repositories import leads
from persistence.repositories.leads import LeadFields, LeadStatus
from persistence.repositories.users import User
from tests.persistence.conftest import MakeSession

FIELDS = LeadFields(
    person="Maria Lopez",
    company="Acme",
    email="maria@acme.test",
    score=72,
    score_reasons=["budget named", "timeline"],
    evidence=[{"quote": "we have 50k", "speaker": 1, "start_s": 12.0, "end_s": 14.5}],
    email_draft={"subject": "Next steps", "body": "Hi Maria"},
)


async def test_lead_crud_is_owned(
    db_pool: Pool, owner_a: User, owner_b: User, make_session: MakeSession
) -> None:
    session = await make_session(owner_a.id)
    lead = await leads.create(db_pool, owner_a.id, session.id, FIELDS, engine="offline")
    assert (
        lead.status == "new" and lead.evidence == FIELDS.evidence and lead.email_draft == FIELDS.email_draft
    )
    assert await leads.get(db_pool, owner_a.id, lead.id) == lead
    assert await leads.get(db_pool, owner_b.id, lead.id) is None
    assert await leads.list_for_owner(db_pool, owner_b.id) == []
    assert await leads.update(db_pool, owner_b.id, lead.id, {"notes": "mine"}) is None
    assert not await leads.delete(db_pool, owner_b.id, lead.id)

    updated = await leads.update(
        db_pool, owner_a.id, lead.id, {"status": "qualified", "notes": "call Friday"}
    )
    assert updated is not None and updated.status == "qualified" and updated.notes == "call Friday"
    assert updated.updated_at > lead.updated_at
    with pytest.raises(ValueError):
        await leads.update(db_pool, owner_a.id, lead.id, {"owner_id": owner_b.id})
    with pytest.raises(ValueError):
        await leads.update(db_pool, owner_a.id, lead.id, {"status": "bogus"})
    with pytest.raises(asyncpg.CheckViolationError):
        await leads.update(db_pool, owner_a.id, lead.id, {"score": 101})
    by_status = await leads.list_for_owner(db_pool, owner_a.id, status=LeadStatus.QUALIFIED)
    assert [x.id for x in by_status] == [lead.id]
    assert await leads.list_for_owner(db_pool, owner_a.id, status=LeadStatus.WON) == []
    assert [x.id for x in await leads.list_for_owner(db_pool, owner_a.id, session_id=session.id)] == [lead.id]
    assert await leads.delete(db_pool, owner_a.id, lead.id)
    assert await leads.get(db_pool, owner_a.id, lead.id) is None


async def test_finalize_once_and_rerun(db_pool: Pool, owner_a: User, make_session: MakeSession) -> None:
    session = await make_session(owner_a.id)
    kept = await leads.create(db_pool, owner_a.id, session.id, FIELDS, engine="crewai")
    draft = await leads.create(db_pool, owner_a.id, session.id, LeadFields(person="Bob"), engine="crewai")
    assert (await leads.finalize(db_pool, kept.id)) is not None
    assert await leads.finalize(db_pool, kept.id) is None  # announced once
    assert await leads.replace_unfinalized(db_pool, session.id) == 1
    assert [x.id for x in await leads.list_for_worker(db_pool, session.id)] == [kept.id]
    assert draft.id != kept.id
