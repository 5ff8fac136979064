"""Start-up calibration: the update interval this machine's model sustains becomes the floor of every live
session's interval, so a slower CPU stretches updates instead of falling further behind with each one."""

from __future__ import annotations

import pytest

from ayka.settings import Settings
from stream_asr.calibration import STEP_S, full_window_call_s, sustainable_update_s
from stream_asr.config import EngineConfig
from stream_asr.decode import Decoder
from stream_asr.scheduler import LoadPolicy, build_scheduler


@pytest.mark.parametrize(
    ("call_s", "update_s"),
    [(0.3, 0.4), (0.43, 0.6), (0.74, 1.0), (0.77, 1.2), (0.0, 0.0), (2.0, 2.6)],
)
def test_the_interval_fits_a_call_with_headroom_in_whole_steps(call_s: float, update_s: float) -> None:
    assert sustainable_update_s(call_s) == update_s
    assert round(update_s / STEP_S, 6).is_integer()


def test_a_full_window_call_is_measured_on_the_real_model(decoder: Decoder) -> None:
    call_s = full_window_call_s(decoder, runs=1)
    assert 0.01 < call_s < 30.0


def test_the_floor_lifts_every_interval_the_policy_gives() -> None:
    policy = LoadPolicy(fast_sessions=1, loaded_update_s=1.0, quick_sessions=2, min_update_s=1.2)
    assert policy.update_s(1, 0.6) == 1.2  # alone, it would be the short interval
    assert policy.update_s(3, 0.6) == 1.2  # loaded: 1.0, still under the floor
    assert policy.update_s(3, 6.0) == 6.0  # uploads ask for more than the floor


async def test_a_worker_calibrates_unless_the_floor_is_set() -> None:
    measured = build_scheduler(Settings(asr_capacity=1))
    assert measured.load_policy is not None and measured.load_policy.min_update_s >= STEP_S
    handle = measured.open("a", EngineConfig(update_s=0.05 + STEP_S / 4))
    assert handle.engine.update_s == measured.load_policy.min_update_s
    handle.discard()
    await measured.aclose()

    pinned = build_scheduler(Settings(asr_capacity=1, asr_min_update_s=0.0))
    assert pinned.load_policy is not None and pinned.load_policy.min_update_s == 0.0
    await pinned.aclose()
