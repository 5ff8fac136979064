"""Many sessions on one model: admission control, batching, events out, stats."""

from __future__ import annotations

import asyncio
import itertools
import time

import numpy as np
import pytest

from stream_asr.audio import float_to_pcm16
from stream_asr.config import EngineConfig
from stream_asr.decode import Decoder, DecodeRequest, Hypothesis
from stream_asr.events import Event, SegmentFinal
from stream_asr.model import ModelConfig, ModelRuntime
from stream_asr.scheduler import (
    LIVE_MIN_CALLS,
    CapacityExceeded,
    DecodeFailed,
    LoadPolicy,
    Scheduler,
    SessionHandle,
    UpdateRecord,
)
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


async def test_a_fault_in_one_sessions_engine_ends_that_session_only(
    runtime: ModelRuntime, vad_model: SileroModel, clip: Clip
) -> None:
    # An exception out of one engine used to end the scheduler's loop: every session on the worker stalled.
    audio = clip.audio[round(8.3 * SAMPLE_RATE) : round(14.2 * SAMPLE_RATE)]
    async with Scheduler(runtime, capacity=2, vad_model=vad_model) as scheduler:
        broken = scheduler.open("broken", EngineConfig())
        healthy = scheduler.open("healthy", EngineConfig())

        def apply(hypothesis: Hypothesis) -> None:
            raise RuntimeError("a bug in the engine")

        broken.engine.apply = apply  # type: ignore[method-assign]
        for handle in (broken, healthy):
            _push_all(handle, audio)
        healthy.close()
        with pytest.raises(DecodeFailed, match="a bug in the engine"):
            await asyncio.wait_for(_collect(broken), 30)
        events = await asyncio.wait_for(_collect(healthy), 60)
        assert "New Jersey" in " ".join(e.transcript for e in events if isinstance(e, SegmentFinal))
        assert scheduler.stats().active_sessions == 0


async def test_concurrent_sessions_share_one_model(vad_model: SileroModel, clip: Clip) -> None:
    records: list[UpdateRecord] = []
    audio = clip.audio[round(14.4 * SAMPLE_RATE) : round(21.9 * SAMPLE_RATE)]
    reference = "And I'm Sheila in Texas, originally from Chicago. Oh, I'm originally from Chicago also. "
    reference += "I'm in New Jersey now though."
    # Batches pay on a GPU, which runs one call at a time (a CPU decodes one session per call unless told
    # otherwise, and what is due is spread over its parallel calls first).
    one_slot = ModelRuntime(ModelConfig(name="tiny.en", parallel_calls=1))
    async with Scheduler(
        one_slot, capacity=2, vad_model=vad_model, on_update=records.append, max_batch=2
    ) as scheduler:
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


async def test_the_load_policy_stretches_updates_and_shortens_windows_as_sessions_join(
    runtime: ModelRuntime, vad_model: SileroModel, clip: Clip
) -> None:
    policy = LoadPolicy(fast_sessions=1, loaded_update_s=1.0, quick_sessions=2)
    seen: list[DecodeRequest] = []
    async with Scheduler(runtime, capacity=4, vad_model=vad_model, load_policy=policy) as scheduler:
        real_decode = scheduler._decode

        def recording(requests: list[DecodeRequest], wide: bool = False) -> list[Hypothesis]:
            seen.extend(requests)
            return real_decode(requests, wide)

        scheduler._decode = recording  # type: ignore[method-assign]
        first = scheduler.open("a", EngineConfig(update_s=0.6))
        assert first.engine.update_s == 0.6  # alone: the short interval
        upload = scheduler.open("b", EngineConfig(update_s=6.0))
        assert first.engine.update_s == 1.0 and upload.engine.update_s == 6.0  # never shorter than asked
        assert not scheduler._all_quick
        third = scheduler.open("c", EngineConfig(update_s=0.6))
        assert scheduler._all_quick and third.engine.update_s == 1.0
        speech = clip.audio[round(14.4 * SAMPLE_RATE) : round(18.4 * SAMPLE_RATE)]
        collectors = [asyncio.create_task(_collect(h)) for h in (first, upload, third)]
        for handle in (first, upload, third):
            _push_all(handle, speech)
            handle.close()
        await asyncio.wait_for(asyncio.gather(*collectors), 120)
        # While all three are open every update is on a short window; flushes (finals) never are.
        assert len(seen) >= 3 and all(r.quick for r in seen[:3] if not r.final)
        assert any(r.quick for r in seen) and not any(r.quick for r in seen if r.final)
        assert not scheduler._all_quick and scheduler.stats().active_sessions == 0
        again = scheduler.open("d", EngineConfig(update_s=0.6))
        assert again.engine.update_s == 0.6
        again.discard()


async def test_model_calls_run_in_parallel(vad_model: SileroModel, clip: Clip) -> None:
    """Two single-threaded calls at once (CTranslate2 workers): twice the throughput of one on a CPU. What
    is due is spread over the free slots, never batched into one call while a slot idles."""
    runtime = ModelRuntime(ModelConfig(name="tiny.en", cpu_threads=1, parallel_calls=2))
    assert Scheduler(runtime, capacity=1, vad_model=vad_model).max_batch == 1  # a CPU call: one session
    spans: list[tuple[float, float]] = []
    records: list[UpdateRecord] = []
    async with Scheduler(
        runtime, capacity=2, vad_model=vad_model, max_batch=8, on_update=records.append
    ) as scheduler:
        assert scheduler.parallel == 2
        real_decode = scheduler._decode

        def timed(requests: list[DecodeRequest], wide: bool = False) -> list[Hypothesis]:
            started = time.monotonic()
            try:
                return real_decode(requests, wide)
            finally:
                spans.append((started, time.monotonic()))

        scheduler._decode = timed  # type: ignore[method-assign]
        audio = clip.audio[round(14.4 * SAMPLE_RATE) : round(21.9 * SAMPLE_RATE)]
        handles = [scheduler.open(name, EngineConfig()) for name in ("p1", "p2")]
        collectors = [asyncio.create_task(_collect(h)) for h in handles]
        for handle in handles:
            _push_all(handle, audio)
            handle.close()
        results = await asyncio.wait_for(asyncio.gather(*collectors), 120)
    texts = [" ".join(e.transcript for e in events if isinstance(e, SegmentFinal)) for events in results]
    assert texts[0] == texts[1] and texts[0]
    spans.sort()
    overlapping = sum(1 for a, b in itertools.pairwise(spans) if b[0] < a[1])
    assert overlapping >= 2, spans  # calls of the two sessions were in flight at the same time
    assert records and all(r.batch_size == 1 for r in records)


async def test_a_live_session_gets_previews_on_the_spare_slot(
    runtime: ModelRuntime, vad_model: SileroModel, clip: Clip
) -> None:
    """At real-time pace, the slot the session's updates leave idle shows its newest words sooner."""
    records: list[UpdateRecord] = []
    audio = clip.audio[round(14.4 * SAMPLE_RATE) : round(21.9 * SAMPLE_RATE)]
    policy = LoadPolicy(fast_sessions=1, loaded_update_s=1.2, quick_sessions=1, min_update_s=1.2)
    async with Scheduler(
        runtime, capacity=1, vad_model=vad_model, on_update=records.append, load_policy=policy
    ) as scheduler:
        assert scheduler.parallel >= 2  # one call per core; previews need a second slot
        handle = scheduler.open("live", EngineConfig(preview_every_s=0.3))
        collector = asyncio.create_task(_collect(handle))
        for begin in range(0, len(audio), 1600):
            handle.push(float_to_pcm16(audio[begin : begin + 1600]))
            await asyncio.sleep(0.1)
        handle.close()
        events = await asyncio.wait_for(collector, 60)
        stats = scheduler.stats()
    previews = [r for r in records if r.preview]
    updates = [r for r in records if not r.preview]
    # 7.5 s of speech with updates every 1.2 s: several looks in between, each on at most 8.8 s of audio.
    assert stats.preview_calls == len(previews) >= 3
    assert all(r.batch_size == 1 and 0.0 < r.audio_s <= 8.8 for r in previews)
    assert stats.preview_seconds_total == pytest.approx(sum(r.duration_s for r in previews))
    assert stats.model_calls == len(updates)  # previews are counted apart from updates
    final = " ".join(e.transcript for e in events if isinstance(e, SegmentFinal))
    assert (
        wer(
            "And I'm Sheila in Texas, originally from Chicago. Oh, I'm originally from Chicago also. "
            "I'm in New Jersey now though.",
            final,
        )
        <= 0.35
    ), final


@pytest.mark.parametrize(("follow", "wide"), [(True, False), (False, False), (True, True)])
async def test_a_lone_sessions_calibrated_floor_follows_the_live_calls(
    request: pytest.FixtureRequest, vad_model: SileroModel, clip: Clip, follow: bool, wide: bool
) -> None:
    """A machine slower than its calibration (each call here 0.8 s longer than the model needs: another
    service on the cores) would queue a session's updates behind each other for ever; a calibrated floor
    rises to what the live calls sustain from the LIVE_MIN_CALLS-th call on, on one core per call or on
    every core (``wide``). A floor set by hand stays."""
    speech = clip.audio[round(14.4 * SAMPLE_RATE) : round(21.9 * SAMPLE_RATE)]
    runtime: ModelRuntime = request.getfixturevalue("wide_runtime" if wide else "runtime")
    policy = LoadPolicy(
        fast_sessions=1,
        min_update_s=0.2,
        wide_sessions=int(wide),
        wide_min_update_s=0.2,
        follow_calls=follow,
    )
    records: list[UpdateRecord] = []
    intervals: list[float] = []  # the session's update interval when each call ended
    async with Scheduler(runtime, capacity=1, vad_model=vad_model, load_policy=policy) as scheduler:
        real_decode = scheduler._decode

        def slow(requests: list[DecodeRequest], every_core: bool = False) -> list[Hypothesis]:
            time.sleep(0.8)
            return real_decode(requests, every_core)

        scheduler._decode = slow  # type: ignore[method-assign]
        handle = scheduler.open("slow", EngineConfig(update_s=0.6, quick_first_update=False))

        def on_update(record: UpdateRecord) -> None:
            records.append(record)
            intervals.append(handle.engine.update_s)

        scheduler.on_update = on_update
        collector = asyncio.create_task(_collect(handle))
        _push_all(handle, speech)
        handle.close()
        events = await asyncio.wait_for(collector, 120)
        floor = scheduler.stats().update_floor_s
        interval = handle.engine.update_s  # as the last call left it
    assert len(intervals) > LIVE_MIN_CALLS and all(r.wide == wide for r in records)
    assert intervals[: LIVE_MIN_CALLS - 1] == [0.6] * (LIVE_MIN_CALLS - 1)  # the calibrated floor at first
    if follow:
        # Calls of more than 0.8 s, with LIVE_HEADROOM, need updates at least 1.0 s apart.
        assert floor >= 1.0 and interval == floor and intervals[-1] >= 1.0
    else:
        assert floor == 0.2 and interval == 0.6 and set(intervals) == {0.6}
    assert "Chicago" in " ".join(e.transcript for e in events if isinstance(e, SegmentFinal))


def test_a_call_on_every_core_hears_exactly_what_a_call_per_core_hears(
    wide_runtime: ModelRuntime, clip: Clip
) -> None:
    """The layout never changes a session's words, timestamps or scores: a session that moves between
    the two (sessions joining, a resumed session on another worker) decodes the same."""
    decoder = Decoder(wide_runtime)
    assert decoder.has_wide and not Decoder(ModelRuntime(ModelConfig(name="tiny.en"))).has_wide
    for start_s, seconds in ((0.0, 4.0), (6.0, 9.0), (14.4, 7.5)):
        begin = round(start_s * SAMPLE_RATE)
        request = DecodeRequest(
            audio=clip.audio[begin : begin + round(seconds * SAMPLE_RATE)].copy(),
            offset_s=start_s,
            prompt_text="",
        )
        (per_core,) = decoder.decode([request])
        assert per_core.words  # speech, so the comparison means something
        (wide,) = decoder.decode([request], wide=True)
        assert [(w.punctuated, w.start_s, w.end_s) for w in wide.words] == [
            (w.punctuated, w.start_s, w.end_s) for w in per_core.words
        ]
        # Equal on this host to the last bit; other CPUs may sum in another order.
        assert [w.probability for w in wide.words] == pytest.approx([w.probability for w in per_core.words])


async def test_a_lone_session_decodes_on_every_core_and_a_second_one_brings_parallel_calls(
    wide_runtime: ModelRuntime, vad_model: SileroModel, clip: Clip
) -> None:
    policy = LoadPolicy(1, 1.0, 2, min_update_s=1.0, wide_sessions=1, wide_min_update_s=0.6)
    spans: list[tuple[float, float, bool, int]] = []  # start, end, wide, sessions open at the start
    records: list[UpdateRecord] = []
    two_updates = asyncio.Event()

    def on_update(record: UpdateRecord) -> None:
        records.append(record)
        if len(records) >= 2:
            two_updates.set()

    speech = clip.audio[round(14.4 * SAMPLE_RATE) : round(21.9 * SAMPLE_RATE)]
    async with Scheduler(
        wide_runtime, capacity=2, vad_model=vad_model, on_update=on_update, load_policy=policy
    ) as scheduler:
        real_decode = scheduler._decode

        def timed(requests: list[DecodeRequest], wide: bool = False) -> list[Hypothesis]:
            started, open_now = time.monotonic(), len(scheduler.sessions)
            try:
                return real_decode(requests, wide)
            finally:
                spans.append((started, time.monotonic(), wide, open_now))

        scheduler._decode = timed  # type: ignore[method-assign]
        lone = scheduler.open("lone", EngineConfig(update_s=0.6))
        assert lone.engine.update_s == 0.6  # the floor of calls on every core
        lone_events = asyncio.create_task(_collect(lone))
        _push_all(lone, speech[: 3 * SAMPLE_RATE])
        await asyncio.wait_for(two_updates.wait(), 60)  # a few updates alone
        second = scheduler.open("second", EngineConfig(update_s=0.6))
        assert lone.engine.update_s == second.engine.update_s == 1.0  # the per-core floor
        second_events = asyncio.create_task(_collect(second))
        _push_all(lone, speech[3 * SAMPLE_RATE :])
        _push_all(second, speech)
        second.close()
        await asyncio.wait_for(second_events, 120)
        alone_again = time.monotonic()
        assert lone.engine.update_s == 0.6  # alone again
        lone.close()
        results = [await asyncio.wait_for(lone_events, 120), second_events.result()]
        stats = scheduler.stats()
    wide_spans = [(a, b) for a, b, wide, _ in spans if wide]
    per_core = [(a, b) for a, b, wide, _ in spans if not wide]
    assert wide_spans and per_core, spans
    assert all(wide == (open_now == 1) for _, _, wide, open_now in spans[:2])
    assert all(wide for start, _, wide, _ in spans if start > alone_again)  # back on every core
    # A call on every core never ran beside another call.
    for a, b in wide_spans:
        assert not any(c < b and a < d for c, d, _, _ in spans if (c, d) != (a, b)), spans
    assert stats.wide_calls == len(wide_spans) == sum(r.wide for r in records)
    reference = "And I'm Sheila in Texas, originally from Chicago. Oh, I'm originally from Chicago also. "
    reference += "I'm in New Jersey now though."
    for events in results:
        text = " ".join(e.transcript for e in events if isinstance(e, SegmentFinal))
        assert wer(reference, text) <= 0.35, text
