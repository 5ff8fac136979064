from __future__ import annotations

from typing import Any

from diarize.embedding import ResemblyzerEmbedder
from diarize.evaluation import Clip
from diarize.offline import ClusteringDiarizer
from diarize.postcall import diarize_session, relabel_segments, speaker_hints
from diarize.types import Turn
from persistence.archive import Archive
from persistence.db import Pool
from persistence.repositories import diarization, segments, sessions, speakers
from persistence.repositories.sessions import StepStatus
from tests.diarize.conftest import StoreSession


def _segment(
    idx: int, words: list[tuple[float, float]], start_s: float = 0.0, end_s: float = 0.0
) -> segments.Segment:
    return segments.Segment(
        session_id="s",
        idx=idx,
        start_s=start_s,
        end_s=end_s,
        text="",
        words=[{"word": f"w{i}", "start_s": a, "end_s": b, "speaker": 7} for i, (a, b) in enumerate(words)],
        speaker=7,
    )


def test_relabel_sets_every_word_and_the_segment_majority() -> None:
    turns = [Turn(0.0, 2.0, 0), Turn(2.0, 5.0, 1)]
    changes = relabel_segments(
        [_segment(0, [(0.0, 0.5), (0.6, 1.0), (1.9, 2.6)]), _segment(1, [], 2.5, 4.0)], turns
    )
    assert [w["speaker"] for w in changes[0].words] == [0, 0, 1]
    assert changes[0].speaker == 0  # 0.9 s of speaker 0 against 0.6 s of speaker 1
    assert [w["word"] for w in changes[0].words] == ["w0", "w1", "w2"]  # the rest of each word kept
    assert changes[1].speaker == 1 and changes[1].words == []


def test_speaker_hints_from_options() -> None:
    assert speaker_hints({"min_speakers": 2, "max_speakers": 3}) == (2, 3)
    assert speaker_hints({"min_speakers": 4, "max_speakers": 3}) == (None, None)
    assert speaker_hints({"max_speakers": True, "min_speakers": "2"}) == (None, None)
    assert speaker_hints({}) == (None, None)


def _majority_mapping(clip: Clip, stored: list[segments.Segment]) -> tuple[dict[str, int], float]:
    """Which label each reference person got most, and the share of words that agree with it."""
    votes: dict[str, dict[int, int]] = {}
    pairs: list[tuple[str, Any]] = []
    for utt, seg in zip(clip.utterances, stored, strict=True):
        for word in seg.words:
            pairs.append((utt.speaker, word["speaker"]))
            if word["speaker"] is not None:
                votes.setdefault(utt.speaker, {}).setdefault(word["speaker"], 0)
                votes[utt.speaker][word["speaker"]] += 1
    mapping = {person: max(v, key=lambda k: v[k]) for person, v in votes.items()}
    agree = sum(1 for person, label in pairs if mapping.get(person) == label)
    return mapping, agree / len(pairs)


async def test_post_call_relabels_the_stored_transcript(
    db_pool: Pool, archive: Archive, store_session: StoreSession, sample: Clip, embedder: ResemblyzerEmbedder
) -> None:
    session_id = await store_session()
    outcome = await diarize_session(db_pool, archive, ClusteringDiarizer(embedder), session_id)
    assert outcome is not None and outcome.status is StepStatus.DONE
    assert outcome.as_data()["speakers"] == 2 and outcome.backend == "offline"

    stored = await segments.list_for_worker(db_pool, session_id)
    mapping, agreement = _majority_mapping(sample, stored)
    assert sorted(mapping.values()) == [0, 1]  # Diane and Sheila got different labels
    assert agreement >= 0.85
    for seg in stored:  # a segment's speaker is one of its words' speakers
        assert seg.speaker in {w["speaker"] for w in seg.words}

    row = await sessions.get_for_worker(db_pool, session_id)
    assert row is not None and row.diarization_status == "done" and row.diarize_backend == "offline"
    turns = await diarization.list_turns(db_pool, row.owner_id, session_id)
    assert {t.speaker for t in turns} == {0, 1} and all(t.end_s > t.start_s for t in turns)
    named = await speakers.list_for_session(db_pool, row.owner_id, session_id)
    assert [(s.label, s.name) for s in named] == [(0, "Speaker 1"), (1, "Speaker 2")]


async def test_hints_from_the_session_options_are_used(
    db_pool: Pool, archive: Archive, store_session: StoreSession, embedder: ResemblyzerEmbedder
) -> None:
    session_id = await store_session(options={"max_speakers": 1})
    outcome = await diarize_session(db_pool, archive, ClusteringDiarizer(embedder), session_id)
    assert outcome is not None and outcome.speakers == 1


async def test_off_and_failure_are_stored_and_reported(
    db_pool: Pool, archive: Archive, store_session: StoreSession, embedder: ResemblyzerEmbedder
) -> None:
    off = await store_session(diarization_status=StepStatus.OFF)
    outcome = await diarize_session(db_pool, archive, ClusteringDiarizer(embedder), off)
    assert outcome is not None and outcome.as_data()["status"] == "off"

    no_backend = await store_session()
    outcome = await diarize_session(db_pool, archive, None, no_backend)
    assert outcome is not None and outcome.status is StepStatus.OFF
    row = await sessions.get_for_worker(db_pool, no_backend)
    assert row is not None and row.diarization_status == "off"

    no_audio = await store_session(archived=False)
    outcome = await diarize_session(db_pool, archive, ClusteringDiarizer(embedder), no_audio)
    assert outcome is not None and outcome.status is StepStatus.FAILED
    assert "ArchiveNotFound" in (outcome.error or "")
    row = await sessions.get_for_worker(db_pool, no_audio)
    assert row is not None and row.diarization_status == "failed"

    assert await diarize_session(db_pool, archive, None, "ses_missing") is None
