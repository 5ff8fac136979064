"""Shared material for the diarization tests: pyannote's sample clip with its references, the encoder,
and a stored session (user, session row, STM-derived segments, archived audio) for the sample."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from diarize.embedding import ResemblyzerEmbedder, shared_embedder
from diarize.evaluation import Clip, Utterance, sample_clip
from diarize.live import FRAME_SAMPLES
from persistence.archive import Archive, open_archive
from persistence.db import Pool
from persistence.repositories import segments, sessions, users

StoreSession = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
def sample() -> Clip:
    return sample_clip()


@pytest.fixture(scope="session")
def embedder() -> ResemblyzerEmbedder:
    return shared_embedder()


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return open_archive(Path(tmp_path_factory.mktemp("archive")).as_uri())


def utterance_words(utt: Utterance) -> list[dict[str, Any]]:
    """The STM line's words, spread evenly over its span (what an ASR final would carry)."""
    texts = utt.text.split() or ["…"]
    step = (utt.end_s - utt.start_s) / len(texts)
    return [
        {
            "word": t.strip(".,?!").lower(),
            "punctuated_word": t,
            "start_s": round(utt.start_s + i * step, 3),
            "end_s": round(utt.start_s + (i + 1) * step, 3),
            "confidence": 0.9,
            "speaker": None,
        }
        for i, t in enumerate(texts)
    ]


def pcm_frames(waveform: np.ndarray) -> list[bytes]:
    pcm = (np.clip(waveform, -1, 1) * 32767).astype(np.int16).tobytes()
    step = FRAME_SAMPLES * 2
    return [pcm[i : i + step] for i in range(0, len(pcm), step)]


@pytest.fixture
def store_session(db_pool: Pool, archive: Archive, sample: Clip) -> StoreSession:
    """``await store_session(options=..., archived=True, segments=True) -> session id``: the sample clip
    as a finished session of a new user."""

    async def store(
        options: dict[str, Any] | None = None, archived: bool = True, with_segments: bool = True, **kw: Any
    ) -> str:
        user = await users.create(db_pool, f"{uuid.uuid4().hex[:10]}@example.com", None, "Tester")
        session_id = f"ses_{uuid.uuid4().hex[:16]}"
        await sessions.create(db_pool, session_id, user.id, title="Sample call", options=options, **kw)
        if with_segments:
            for idx, utt in enumerate(sample.utterances):
                await segments.apply_final(
                    db_pool, session_id, idx, utt.start_s, utt.end_s, utt.text, utterance_words(utt)
                )
        if archived:
            writer = archive.writer(session_id)
            for seq, frame in enumerate(pcm_frames(sample.waveform)):
                writer.append(seq, frame)
            writer.finalize("flac")
        return session_id

    return store
