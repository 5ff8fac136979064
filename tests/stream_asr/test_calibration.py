"""Start-up calibration: how fast this machine's model is decides the floor of every live session's update
interval (a slower CPU stretches updates instead of falling further behind with each one), how many sessions
still decode on full windows, and how many sessions the worker admits at all (so that latency holds)."""

from __future__ import annotations

import dataclasses

import pytest
from nats.aio.client import Client as NATS
from pydantic import ValidationError

from ayka.bus import StreamOptions
from ayka.settings import Settings
from stream_asr.calibration import (
    MAX_CAPACITY,
    STEP_S,
    Calibration,
    calibrate,
    full_window_call_s,
    sustainable_update_s,
)
from stream_asr.config import EngineConfig
from stream_asr.decode import Decoder
from stream_asr.model import ModelRuntime
from stream_asr.options import engine_config
from stream_asr.scheduler import CapacityExceeded, LoadPolicy, build_scheduler
from stream_asr.worker import AsrWorker


@pytest.mark.parametrize(
    ("call_s", "update_s"),
    [(0.3, 0.4), (0.43, 0.6), (0.74, 1.0), (0.77, 1.2), (0.0, 0.0), (2.0, 2.6)],
)
def test_the_interval_fits_a_call_with_headroom_in_whole_steps(call_s: float, update_s: float) -> None:
    assert sustainable_update_s(call_s) == update_s
    assert round(update_s / STEP_S, 6).is_integer()


@pytest.mark.parametrize(
    ("full_s", "quick_s", "parallel", "update_s", "full_sessions", "capacity"),
    [
        # session 3's AVX2 host: measured, two sessions on quick windows p95 2.7 s, three 3.6 s
        (0.72, 0.17, 2, 1.0, 1, 2),
        # session 2's host (calls 1.8x faster): full windows held p95 2.5 s for two sessions
        (0.40, 0.095, 2, 1.0, 2, 3),
        # one core of the slow host: no room for a full-window session at this interval
        (0.72, 0.17, 1, 1.0, 0, 1),
        # a GPU's batched calls: bounded all the same
        (0.02, 0.0005, 1, 1.0, 25, MAX_CAPACITY),
    ],
)
def test_the_load_policy_follows_the_measured_calls(
    full_s: float, quick_s: float, parallel: int, update_s: float, full_sessions: int, capacity: int
) -> None:
    measured = Calibration(full_call_s=full_s, quick_call_s=quick_s, parallel=parallel)
    assert measured.full_window_sessions(update_s) == full_sessions
    assert measured.capacity(update_s) == capacity


def test_previews_beside_the_updates_lift_the_floor_by_what_they_cost() -> None:
    # The AVX2 host: a 0.72 s call takes 0.86 s with a preview beside it; 1.0 s no longer holds (measured:
    # finalization p50 3.4-4.2 s at 1.0 s, 2.5 s at 1.2 s, with previews every 0.3 s).
    alone = Calibration(full_call_s=0.72, quick_call_s=0.17, parallel=2)
    shared = dataclasses.replace(alone, shared_full_call_s=0.86)
    assert (alone.update_floor_s(), shared.update_floor_s()) == (1.0, 1.2)
    # A machine where the two calls do not slow each other keeps its floor.
    assert dataclasses.replace(alone, shared_full_call_s=0.70).update_floor_s() == 1.0


def test_calls_on_every_core_set_the_floor_of_a_lone_session() -> None:
    # The AVX2 host: one call per core 0.72 s, one call on both cores 0.44-0.48 s (bench/calls.py).
    per_core = Calibration(full_call_s=0.72, quick_call_s=0.17, parallel=2)
    assert per_core.wide_update_floor_s() == per_core.update_floor_s() == 1.0  # not measured: no change
    # More headroom than per-core calls: they leave no idle core (0.42 s per core: 0.6 s).
    for call_s, floor_s in ((0.42, 0.6), (0.44, 0.8), (0.57, 0.8), (0.58, 1.0)):
        assert dataclasses.replace(per_core, wide_full_call_s=call_s).wide_update_floor_s() == floor_s
    policy = LoadPolicy(min_update_s=1.0, wide_sessions=1, wide_min_update_s=0.6)
    assert (policy.wide(1), policy.wide(2), LoadPolicy().wide(1)) == (True, False, False)
    assert policy.update_s(1, 0.6, wide=True) == 0.6
    assert policy.update_s(1, 0.6) == 1.0  # a model without the wide instance keeps the per-core floor
    assert policy.update_s(1, 2.0, wide=True) == 2.0
    # Sessions on every core take turns: two of them need room for two calls per interval.
    two = LoadPolicy(fast_sessions=2, min_update_s=1.0, wide_sessions=2, wide_min_update_s=0.6)
    assert (two.update_s(1, 0.6, wide=True), two.update_s(2, 0.6, wide=True)) == (0.6, 1.2)


def test_a_slower_machine_admits_fewer_sessions_and_longer_intervals_admit_more() -> None:
    fast = Calibration(full_call_s=0.4, quick_call_s=0.1, parallel=2)
    slow = Calibration(full_call_s=0.8, quick_call_s=0.2, parallel=2)
    assert slow.capacity(1.0) < fast.capacity(1.0) <= fast.capacity(2.0)
    assert slow.full_window_sessions(1.0) < fast.full_window_sessions(1.0)
    assert slow.update_floor_s() > fast.update_floor_s()


def test_calls_are_measured_on_the_real_model(decoder: Decoder) -> None:
    call_s = full_window_call_s(decoder, runs=1)
    assert 0.01 < call_s < 30.0
    measured = calibrate(decoder, parallel=2, runs=1)
    # The quick call encodes a 10 s window instead of 30 s: a fraction of the cost.
    assert 0.0 < measured.quick_call_s < measured.full_call_s
    assert measured.parallel == 2
    assert measured.shared_full_call_s is None  # previews not asked for

    with_previews = calibrate(decoder, parallel=2, runs=1, previews=True)
    assert with_previews.shared_full_call_s is not None and 0.01 < with_previews.shared_full_call_s < 30.0
    # One model call at a time leaves no slot for previews, so nothing is measured beside.
    assert calibrate(decoder, parallel=1, runs=1, previews=True).shared_full_call_s is None
    assert measured.wide_full_call_s is None  # this decoder has no instance on every core


def test_the_call_on_every_core_is_measured_where_the_model_has_it(wide_runtime: ModelRuntime) -> None:
    measured = calibrate(Decoder(wide_runtime), parallel=2, runs=1)
    assert measured.wide_full_call_s is not None and 0.01 < measured.wide_full_call_s < 30.0
    assert measured.wide_update_floor_s() >= STEP_S


def test_the_floor_lifts_every_interval_the_policy_gives() -> None:
    policy = LoadPolicy(fast_sessions=1, loaded_update_s=1.0, quick_sessions=2, min_update_s=1.2)
    assert policy.update_s(1, 0.6) == 1.2  # alone, it would be the short interval
    assert policy.update_s(3, 0.6) == 1.2  # loaded: 1.0, still under the floor
    assert policy.update_s(3, 6.0) == 6.0  # uploads ask for more than the floor


@pytest.mark.parametrize("value", ["", "auto", " AUTO "])
def test_empty_or_auto_means_calibrate(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AYKA_ASR_CAPACITY", "AYKA_ASR_QUICK_SESSIONS", "AYKA_ASR_MIN_UPDATE_S"):
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert (settings.asr_capacity, settings.asr_quick_sessions, settings.asr_min_update_s) == (
        None,
        None,
        None,
    )


def test_the_trim_context_is_set_by_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert engine_config(StreamOptions(), Settings()).context_s == 3.0
    monkeypatch.setenv("AYKA_ASR_CONTEXT_S", "0")
    assert engine_config(StreamOptions(), Settings()).context_s == 0.0  # cut at the last commit
    monkeypatch.setenv("AYKA_ASR_CONTEXT_S", "8")
    with pytest.raises(ValidationError, match="less than or equal to 7"):
        Settings()


def test_previews_are_set_by_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    options = StreamOptions()
    assert engine_config(options, Settings()).preview_every_s is None  # off unless asked for
    monkeypatch.setenv("AYKA_ASR_PREVIEW_S", "0.3")
    assert engine_config(options, Settings()).preview_every_s == 0.3
    monkeypatch.setenv("AYKA_ASR_PREVIEW_S", "0.05")
    with pytest.raises(ValidationError, match=r"must be 0 \(off\) or at least 0\.1 seconds"):
        Settings()


async def test_a_worker_calibrates_what_is_not_set_and_advertises_its_capacity(nc: NATS) -> None:
    measured = build_scheduler(Settings())
    policy = measured.load_policy
    assert policy is not None and policy.min_update_s >= STEP_S
    assert policy.follow_calls  # a calibrated floor rises to what the live calls sustain; a pinned one stays
    # With 2 cores or more the worker loads the instance for calls on every core and times it.
    assert measured.decoder.has_wide == (measured.parallel > 1)
    assert policy.wide_sessions == 1 and policy.wide_min_update_s >= STEP_S
    assert 1 <= policy.quick_sessions <= measured.capacity <= MAX_CAPACITY
    worker = AsrWorker(Settings(), nc, measured)
    assert worker.capacity == worker.heartbeat.info.capacity == measured.capacity
    handles = [
        measured.open(f"s{i}", EngineConfig(update_s=0.05 + STEP_S / 4)) for i in range(measured.capacity)
    ]
    floor = policy.wide_min_update_s if len(handles) == 1 else policy.min_update_s
    assert handles[0].engine.update_s >= floor
    with pytest.raises(CapacityExceeded, match="session refused so that latency holds"):
        measured.open("one-too-many", EngineConfig())
    for handle in handles:
        handle.discard()
    await measured.aclose()

    pinned = build_scheduler(Settings(asr_capacity=3, asr_quick_sessions=5, asr_min_update_s=0.0))
    assert pinned.capacity == 3
    assert pinned.load_policy == LoadPolicy(
        fast_sessions=1,
        loaded_update_s=1.0,
        quick_sessions=5,
        min_update_s=0.0,
        wide_sessions=1,
        wide_min_update_s=0.0,
    )
    await pinned.aclose()
    per_core = build_scheduler(Settings(asr_capacity=2, asr_min_update_s=1.0, asr_wide_sessions=0))
    assert not per_core.decoder.has_wide and per_core.runtime.wide_whisper is None
    await per_core.aclose()
