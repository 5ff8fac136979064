from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from persistence.archive import ArchivedAudio
from persistence.db import Pool
from persistence.repositories import segments, sessions
from persistence.repositories._common import InvalidCursor
from persistence.repositories.sessions import SessionStatus, StepStatus
from persistence.repositories.users import User
from tests.persistence.conftest import MakeSession

AUDIO = ArchivedAudio("x/audio.flac", "flac", 1234, "ab" * 32, 3.5)


async def test_create_resume_and_foreign_id(db_pool: Pool, owner_a: User, owner_b: User) -> None:
    sid = f"ses_{uuid.uuid4().hex[:12]}"
    created = await sessions.create(
        db_pool, sid, owner_a.id, title="Demo", language="en", options={"diarize": True}
    )
    assert created is not None and created.status == "live" and created.options == {"diarize": True}
    again = await sessions.create(db_pool, sid, owner_a.id, title="ignored")
    assert again is not None and again.title == "Demo"  # resuming keeps the row
    assert await sessions.create(db_pool, sid, owner_b.id) is None  # someone else's id
    assert await sessions.get(db_pool, owner_b.id, sid) is None
    assert await sessions.update_title(db_pool, owner_b.id, sid, "x") is None
    assert await sessions.delete(db_pool, owner_b.id, sid) is None
    renamed = await sessions.update_title(db_pool, owner_a.id, sid, "Renamed")
    assert renamed is not None and renamed.title == "Renamed"


async def test_list_paginates_and_filters(
    db_pool: Pool, owner_a: User, owner_b: User, make_session: MakeSession
) -> None:
    made = [await make_session(owner_a.id) for _ in range(5)]
    await make_session(owner_b.id)
    await sessions.update_state(db_pool, made[0].id, status=SessionStatus.COMPLETED)
    await segments.apply_final(db_pool, made[1].id, 0, 0.0, 1.0, "We discussed the Zebra budget", [])
    await sessions.update_title(db_pool, owner_a.id, made[2].id, "100% zebra_ok")

    seen: list[str] = []
    cursor = None
    while True:
        page = await sessions.list_for_owner(db_pool, owner_a.id, limit=2, cursor=cursor)
        seen += [s.id for s in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [s.id for s in reversed(made)]  # newest first, each once, none of B's

    done = await sessions.list_for_owner(db_pool, owner_a.id, status=SessionStatus.COMPLETED)
    assert [s.id for s in done.items] == [made[0].id]
    found = await sessions.list_for_owner(db_pool, owner_a.id, q="zebra")
    assert {s.id for s in found.items} == {made[1].id, made[2].id}
    assert found.items[-1].segment_count == 1
    literal = await sessions.list_for_owner(db_pool, owner_a.id, q="100%")
    assert [s.id for s in literal.items] == [made[2].id]
    assert (await sessions.list_for_owner(db_pool, owner_a.id, q="1_0")).items == []  # _ is literal
    assert (await sessions.list_for_owner(db_pool, owner_b.id, q="zebra")).items == []
    future = datetime.now(UTC) + timedelta(hours=1)
    assert (await sessions.list_for_owner(db_pool, owner_a.id, since=future)).items == []
    assert len((await sessions.list_for_owner(db_pool, owner_a.id, until=future)).items) == 5
    with pytest.raises(InvalidCursor):
        await sessions.list_for_owner(db_pool, owner_a.id, cursor="not-a-cursor")


async def test_lifecycle_and_readiness_is_announced_once(
    db_pool: Pool, owner_a: User, make_session: MakeSession
) -> None:
    session = await make_session(owner_a.id)
    assert await sessions.mark_ended(db_pool, session.id, last_seq=41, duration_s=4.2)
    assert await sessions.update_state(
        db_pool, session.id, diarization_status=StepStatus.RUNNING, worker_id="w1", diarize_backend="offline"
    )
    assert not await sessions.mark_transcribed(db_pool, session.id)  # archive not finished yet
    results = await asyncio.gather(
        sessions.mark_archived(db_pool, session.id, AUDIO),
        sessions.mark_archived(db_pool, session.id, AUDIO),
        sessions.mark_transcribed(db_pool, session.id),
    )
    assert results.count(True) == 1
    assert not await sessions.mark_transcribed(db_pool, session.id)
    got = await sessions.get(db_pool, owner_a.id, session.id)
    assert got is not None and got.ready_at is not None and got.status == "processing"
    assert (got.last_seq, got.duration_s, got.worker_id) == (41, 4.2, "w1")
    assert (got.audio_key, got.audio_bytes, got.diarization_status) == ("x/audio.flac", 1234, "running")
    assert not await sessions.mark_transcribed(db_pool, "ses_missing")

    other = await make_session(owner_a.id)  # archive first, then transcript
    assert not await sessions.mark_archived(db_pool, other.id, AUDIO)
    assert await sessions.mark_transcribed(db_pool, other.id)


async def test_retention_listing_and_delete(db_pool: Pool, owner_a: User, make_session: MakeSession) -> None:
    session = await make_session(owner_a.id)
    await sessions.mark_archived(db_pool, session.id, AUDIO)
    old = await sessions.list_audio_older_than(db_pool, datetime.now(UTC) + timedelta(seconds=5), limit=1000)
    assert session.id in {s.id for s in old}
    assert await sessions.clear_audio(db_pool, session.id)
    worker_view = await sessions.get_for_worker(db_pool, session.id)
    assert worker_view is not None and worker_view.audio_key is None
    deleted = await sessions.delete(db_pool, owner_a.id, session.id)
    assert deleted is not None and deleted.id == session.id
    assert await sessions.get(db_pool, owner_a.id, session.id) is None
