"""Many sessions on one model: admission control, batching, events out, stats."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from stream_asr.audio import float_to_pcm16
from stream_asr.config import EngineConfig
from stream_asr.events import Event, SegmentFinal
from stream_asr.model import ModelRuntime
from stream_asr.scheduler import CapacityExceeded, Scheduler, SessionHandle, UpdateRecord
from stream_asr.vad import SileroModel
from tests.data.clips import SAMPLE_RATE, Clip, wer


async def _collect(handle: SessionHandle) -> list[Event]:
    return [event async for event in handle]


def _push_all(handle: SessionHandle, audio: np.ndarray) -> None:
    for begin in range(0, len(audio), 1600):
        handle.push(float_to_pcm16(audio[begin : begin + 1600]))


async def test_sessions_beyond_capacity_are_refused(runtime: ModelRuntime, vad_model: SileroModel) -> None:
    async with Scheduler(runtime, capacity=1, vad_model=vad_model) as scheduler:
        first = scheduler.open("a", EngineConfig())
        with pytest.raises(CapacityExceeded, match="capacity: 1 of 1"):
            scheduler.open("b", EngineConfig())
        assert scheduler.stats().refused_sessions == 1
        first.close()
        assert await asyncio.wait_for(_collect(first), 10) == []
        assert scheduler.stats().active_sessions == 0
        scheduler.open("b", EngineConfig()).discard()


async def test_concurrent_sessions_share_one_model(
    runtime: ModelRuntime, vad_model: SileroModel, clip: Clip
) -> None:
    records: list[UpdateRecord] = []
    audio = clip.audio[round(14.4 * SAMPLE_RATE) : round(21.9 * SAMPLE_RATE)]
    reference = "And I'm Sheila in Texas, originally from Chicago. Oh, I'm originally from Chicago also. "
    reference += "I'm in New Jersey now though."
    async with Scheduler(runtime, capacity=2, vad_model=vad_model, on_update=records.append) as scheduler:
        handles = [scheduler.open(name, EngineConfig()) for name in ("s1", "s2")]
        collectors = [asyncio.create_task(_collect(h)) for h in handles]
        for handle in handles:
            _push_all(handle, audio)
        for handle in handles:
            handle.close()
        results = await asyncio.wait_for(asyncio.gather(*collectors), 120)
        texts = [" ".join(e.transcript for e in events if isinstance(e, SegmentFinal)) for events in results]
        assert texts[0] == texts[1]
        assert wer(reference, texts[0]) <= 0.35, texts[0]
        stats = scheduler.stats()
        assert stats.active_sessions == 0
        assert stats.decodes >= 4 and stats.model_calls < stats.decodes  # decodes were batched
        assert max(r.batch_size for r in records) == 2
        assert stats.audio_seconds_total == pytest.approx(2 * len(audio) / SAMPLE_RATE, abs=0.05)
        assert stats.real_time_factor > 0.0
        for handle in handles:
            assert handle.processed_s == pytest.approx(handle.received_s)
            assert handle.resume_point().finals_emitted >= 1
