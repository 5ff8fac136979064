"""50 concurrent WebSocket streams on loopback that do not disturb each other: each gets its own session,
only its own results, a transcript of its own audio, its own finals in PostgreSQL and its own audio in
the archive.

All 50 streams send their audio at once (twice real time), then ``Finalize`` and wait (with KeepAlive) for
its final while the one ASR worker works through 50 sessions on a shared model, then ``CloseStream``. The
worker updates its loaded sessions every 4 s of audio here (``AYKA_ASR_LOADED_UPDATE_S``; 1 s by default):
what is under test is isolation, and each snippet is then decoded about twice (its first look and its
pause) instead of four times: 103 s → 45 s on a slow CPU. Latency under load is bench/'s."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import websockets

from persistence.repositories import segments as segments_repo
from persistence.repositories import sessions as sessions_repo
from stream_asr.scheduler import Scheduler
from tests.data.clips import SAMPLE_RATE, _pyannote_sample_dir, sample_clip, wer
from tests.fixtures.platform import RunningPlatform

STREAMS = 50
# Measured on a loaded 2-core machine: ≈ 0.5 s per model call, ≈ 4 calls per stream, one worker.
pytestmark = pytest.mark.timeout(480)
FRAME = 3200
GAP = np.zeros(int(0.6 * SAMPLE_RATE), dtype=np.float32)


def _utterances() -> list[tuple[np.ndarray, str]]:
    """The sample clip's utterances of 1 s or more, cut by the reference timings (never into the
    next one)."""
    audio = sample_clip().audio
    rows = [
        line.split(maxsplit=5) for line in (_pyannote_sample_dir() / "sample.stm").read_text().splitlines()
    ]
    spans = [(float(r[3]), float(r[4]), r[5]) for r in rows]
    out = []
    for i, (start_s, end_s, text) in enumerate(spans):
        next_s = spans[i + 1][0] if i + 1 < len(spans) else end_s + 1
        if end_s - start_s >= 1.0:
            cut = audio[
                int((start_s - 0.05) * SAMPLE_RATE) : int(min(end_s + 0.1, next_s - 0.02) * SAMPLE_RATE)
            ]
            out.append((cut, text))
    return out


def _snippets() -> list[tuple[bytes, str]]:
    """One snippet per stream: the utterances in turn (short, so that one ASR worker on two cores can
    serve 50 sessions in time); streams next to each other always carry different words."""
    utterances = _utterances()
    assert len(utterances) >= 8
    out = []
    for i in range(STREAMS):
        audio, text = utterances[i % len(utterances)]
        padded = np.concatenate([GAP[:1600], audio, GAP[:3200]])
        out.append(((np.clip(padded, -1, 1) * 32767).astype("<i2").tobytes(), text))
    return out


async def _one(platform: RunningPlatform, pcm: bytes) -> tuple[str, list[dict[str, Any]], int | None]:
    """Stream ``pcm`` at twice real time, Finalize, wait for its final (KeepAlive meanwhile), CloseStream.
    Returns (session id, messages, close code)."""
    messages: list[dict[str, Any]] = []
    finalized = asyncio.Event()
    headers = {"Authorization": f"Token {platform.api_key}"}
    # endpointing off: Finalize makes the final, one model call fewer per stream for the shared worker
    uri = f"{platform.ws_url}?encoding=linear16&sample_rate=16000&channels=1&endpointing=false"
    # No client pings: the whole platform shares this test's event loop, which 50 sessions keep busy.
    async with websockets.connect(uri, additional_headers=headers, ping_interval=None) as ws:

        async def read() -> None:
            async for raw in ws:
                message = json.loads(raw)
                messages.append(message)
                if message.get("type") == "Results" and message.get("from_finalize"):
                    finalized.set()

        reader = asyncio.create_task(read())
        for i in range(0, len(pcm), FRAME):
            await ws.send(pcm[i : i + FRAME])
            await asyncio.sleep(0.05)
        await ws.send(json.dumps({"type": "Finalize"}))
        while not finalized.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finalized.wait(), 3)
            await ws.send(json.dumps({"type": "KeepAlive"}))
        await ws.send(json.dumps({"type": "CloseStream"}))
        await reader
    return messages[0]["session_id"], messages, ws.close_code


def _finals(messages: list[dict[str, Any]]) -> dict[int, str]:
    finals: dict[int, str] = {}
    for m in messages:
        if m.get("type") == "Results" and m["is_final"]:
            assert m["final_index"] not in finals, "a final arrived twice"
            finals[m["final_index"]] = m["channel"]["alternatives"][0]["transcript"]
    return finals


async def _ready(platform: RunningPlatform, session_id: str, deadline: float) -> None:
    while True:
        row = await sessions_repo.get(platform.pool, platform.owner_id, session_id)
        if row is not None and row.ready_at is not None:
            return
        assert time.monotonic() < deadline, f"session {session_id} not ready: {row}"
        await asyncio.sleep(0.2)


@pytest.fixture
def updates_every_four_seconds(asr_scheduler: Scheduler) -> Iterator[None]:
    """The platform's worker (``asr_scheduler``) set as ``AYKA_ASR_LOADED_UPDATE_S=4`` would, for one test."""
    policy = asr_scheduler.load_policy
    assert policy is not None
    asr_scheduler.load_policy = dataclasses.replace(policy, loaded_update_s=4.0)
    yield
    asr_scheduler.load_policy = policy


@pytest.mark.usefixtures("updates_every_four_seconds")
async def test_fifty_concurrent_streams_do_not_disturb_each_other(platform: RunningPlatform) -> None:
    snippets = _snippets()
    started = time.monotonic()
    async with asyncio.timeout(300):
        outcomes = await asyncio.gather(*(_one(platform, pcm) for pcm, _ in snippets))
    elapsed = time.monotonic() - started

    sessions = [session_id for session_id, _, _ in outcomes]
    assert len(set(sessions)) == STREAMS and all(sessions), "streams shared or lacked a session"
    texts: list[str] = []
    for session_id, messages, code in outcomes:
        assert code == 1000
        # Only this session's results reach this client.
        foreign = {m.get("session_id") for m in messages if m.get("type") in ("Results", "Metadata")}
        assert foreign == {session_id}, foreign
        finals = _finals(messages)
        assert sorted(finals) == list(range(len(finals)))
        assert messages[-1]["type"] == "Metadata" and messages[-1]["finals"] == len(finals)
        texts.append(" ".join(t for _, t in sorted(finals.items()) if t))
    # Each transcript is of its own audio: the streams that carried the same utterance got the same
    # words, whatever else ran beside them; each is closer to its own reference than to any other.
    by_text: dict[str, list[str]] = {}
    for (_, expected), text in zip(snippets, texts, strict=True):
        by_text.setdefault(expected, []).append(text)
    for expected, group in by_text.items():
        assert len(set(group)) == 1, (expected, group)
        others = [wer(other, group[0]) for other in by_text if other != expected]
        assert wer(expected, group[0]) < min(others), (expected, group[0])
    errors = [wer(expected, group[0]) for expected, group in by_text.items()]
    assert sum(errors) / len(errors) <= 0.35, list(zip(errors, by_text, strict=True))

    deadline = time.monotonic() + 120
    for (pcm, _), (session_id, messages, _) in zip(snippets, outcomes, strict=True):
        await _ready(platform, session_id, deadline)
        stored = await segments_repo.list_for_session(platform.pool, platform.owner_id, session_id)
        assert {s.idx: s.text for s in stored} == _finals(messages)
        archived = await asyncio.to_thread(platform.archive.read_pcm, session_id)
        assert hashlib.sha256(archived).digest() == hashlib.sha256(pcm).digest()
    print(f"50 streams finalized in {elapsed:.0f} s")
