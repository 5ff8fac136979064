"""How fast this machine runs the model, measured once when a worker starts: the shortest update interval
a live session can sustain here. The default intervals were chosen on one CPU; a slower one (no AVX-512,
say) takes twice as long per call, and a session whose updates come faster than the model answers falls
further behind with every update (measured: finalization p50 9 s instead of 1.2 s for one stream)."""

from __future__ import annotations

import math
import statistics
import time

import numpy as np

from stream_asr.config import SAMPLE_RATE
from stream_asr.decode import Decoder, DecodeRequest

CALIBRATION_AUDIO_S = 8.0  # a typical buffer between trims
RUNS = 3
# A real buffer holds speech and grows to 8-25 s: its calls take ~1.25x a call on 8 s of quiet noise
# (measured on two CPUs); the rest is margin for the scheduler and the other sessions.
HEADROOM = 1.3
STEP_S = 0.2  # intervals are whole steps, so workers on one machine agree despite timing noise


def full_window_call_s(decoder: Decoder, runs: int = RUNS) -> float:
    """Median seconds of one model call on a full-window buffer (after one warm-up call)."""
    audio = (np.random.default_rng(0).standard_normal(int(CALIBRATION_AUDIO_S * SAMPLE_RATE)) * 0.01).astype(
        np.float32
    )
    request = DecodeRequest(audio=audio, offset_s=0.0, prompt_text="")
    decoder.decode([request])
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        decoder.decode([request])
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def sustainable_update_s(call_s: float) -> float:
    """The shortest update interval, in whole ``STEP_S`` steps, that a call of ``call_s`` fits into."""
    return round(math.ceil(round(call_s * HEADROOM / STEP_S, 6)) * STEP_S, 3)
