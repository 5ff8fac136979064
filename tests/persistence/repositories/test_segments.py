from __future__ import annotations

from persistence.db import Pool
from persistence.repositories import segments
from persistence.repositories.segments import Relabel
from persistence.repositories.users import User
from tests.persistence.conftest import MakeSession

WORDS = [
    {"word": "hello", "punctuated_word": "Hello", "start_s": 0.1, "end_s": 0.4, "confidence": 0.9},
    {"word": "there", "punctuated_word": "there.", "start_s": 0.5, "end_s": 0.8, "confidence": 0.8},
]


async def test_apply_final_is_idempotent_and_owned(
    db_pool: Pool, owner_a: User, owner_b: User, make_session: MakeSession
) -> None:
    session = await make_session(owner_a.id)
    for _ in range(3):  # JetStream redelivers the same final
        await segments.apply_final(db_pool, session.id, 0, 0.1, 0.8, "Hello there.", WORDS)
    await segments.apply_final(db_pool, session.id, 1, 1.0, 1.5, "Bye", [], speaker=1)
    got = await segments.list_for_session(db_pool, owner_a.id, session.id)
    assert [(s.idx, s.text, s.speaker) for s in got] == [(0, "Hello there.", None), (1, "Bye", 1)]
    assert got[0].words == WORDS  # JSONB round-trips as Python objects
    assert await segments.list_for_session(db_pool, owner_b.id, session.id) == []
    await segments.apply_final(db_pool, session.id, 1, 1.0, 1.6, "Bye now", [])  # no speaker: keep 1
    assert (await segments.list_for_worker(db_pool, session.id))[1].speaker == 1


async def test_speaker_labels(db_pool: Pool, owner_a: User, make_session: MakeSession) -> None:
    session = await make_session(owner_a.id)
    await segments.apply_final(db_pool, session.id, 0, 0.1, 0.8, "Hello there.", WORDS)
    assert await segments.set_speaker(db_pool, session.id, 0, 2)
    labeled = (await segments.list_for_worker(db_pool, session.id))[0]
    assert labeled.speaker == 2 and [w["speaker"] for w in labeled.words] == [2, 2]
    assert [w["word"] for w in labeled.words] == ["hello", "there"]  # order kept
    assert not await segments.set_speaker(db_pool, session.id, 9, 0)
    relabeled_words = [{**WORDS[0], "speaker": 0}, {**WORDS[1], "speaker": 1}]
    await segments.relabel(db_pool, session.id, [Relabel(0, 0, relabeled_words)])
    again = (await segments.list_for_worker(db_pool, session.id))[0]
    assert again.speaker == 0 and again.words == relabeled_words
