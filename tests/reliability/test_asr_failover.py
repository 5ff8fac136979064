"""``ayka up --asr-workers 2``: kill -9 the ASR worker that owns a live session. The session moves to
the other worker (it resumes from the progress point in KV and replays the audio), the client's final
transcript equals a run without the fault, nothing is lost in storage, and the supervisor restarts the
killed worker."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import pytest

from tests.reliability.cluster import clip_pcm
from tests.reliability.conftest import Up

pytestmark = pytest.mark.timeout(300)

CLIP_S = 12.0
FAULT_FRAME = 45


async def test_readyz_lists_each_asr_worker_with_its_pid(up: Up) -> None:
    workers = await up.asr_workers()
    assert len(workers) == 2
    pids = {w["pid"] for w in workers}
    assert len(pids) == 2 and all(isinstance(p, int) and p > 0 for p in pids)
    for pid in pids:
        os.kill(pid, 0)  # real, live processes


async def test_killing_the_owning_asr_worker_moves_the_session_and_keeps_the_transcript(up: Up) -> None:
    pcm = clip_pcm(CLIP_S)
    baseline, _ = await up.client.stream(up.base_url, pcm)
    baseline_words = await up.client.check_nothing_lost(baseline, pcm)
    assert len(baseline_words) >= 15

    killed: list[dict[str, Any]] = []

    async def fault(messages: list[dict[str, Any]]) -> None:
        await up.client.session_of(messages)
        # The one live session is this stream's: kill the worker /readyz says owns it.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for worker in await up.asr_workers():
                if worker["sessions"]:
                    os.kill(worker["pid"], signal.SIGKILL)
                    killed.append(worker)
                    return
            await asyncio.sleep(0.1)
        raise AssertionError("no ASR worker listed the session in /readyz")

    result, messages = await up.client.stream(up.base_url, pcm, fault_at_frame=FAULT_FRAME, fault=fault)
    assert killed, "the owner was not killed"
    assert killed[0]["sessions"] == [result.transcript.session_id]
    words = await up.client.check_nothing_lost(result, pcm)
    assert words == baseline_words, (words, baseline_words)
    assert not [m for m in messages if m.get("type") == "Error"]

    # The supervisor restarts the killed worker: two ASR workers again, the killed pid gone.
    deadline = time.monotonic() + 120
    while True:
        workers = await up.asr_workers()
        pids = {w["pid"] for w in workers}
        if len(workers) == 2 and killed[0]["pid"] not in pids:
            break
        assert time.monotonic() < deadline, workers
        await asyncio.sleep(0.5)
