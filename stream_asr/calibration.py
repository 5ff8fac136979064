"""How fast this machine runs the model, measured once when a worker starts, and the load policy that
follows from it: the shortest update interval a live session sustains, how many sessions may still decode
on full windows, and how many sessions the worker admits at all.

The defaults were chosen on one CPU; a slower one (no AVX-512, say) takes twice as long per call. A session
whose updates come faster than the model answers falls further behind with every update (measured:
finalization p50 9 s instead of 1.2 s for one stream), and a worker that admits four sessions where its
CPU sustains two serves all four late (p95 12 s). Calibration turns both into refusals and longer
intervals, which keep latency."""

from __future__ import annotations

import dataclasses
import math
import statistics
import threading
import time
from dataclasses import dataclass

import numpy as np

from stream_asr.config import SAMPLE_RATE
from stream_asr.decode import Decoder, DecodeRequest

CALIBRATION_AUDIO_S = 8.0  # a typical buffer between trims
RUNS = 3
# A real buffer holds speech and grows to 8-25 s: its calls take ~1.25x a call on 8 s of quiet noise
# (measured on two CPUs); the rest is margin for the scheduler and the other sessions.
HEADROOM = 1.3
# A lone session's calls on every core leave no idle core for the rest of the machine (the platform's
# other services on a one-machine install): on the AVX2 host, with 0.45-0.50 s calls, a 0.6 s floor fell
# behind end to end (finalization p95 2.45-3.99 s) where 0.8 s held (p95 2.09-2.13 s), though the engine
# alone did better at 0.6 s (bench/README.md, session 6).
WIDE_HEADROOM = 1.4
STEP_S = 0.2  # intervals are whole steps, so workers on one machine agree despite timing noise

# Fitted with `python -m bench.stream --concurrency N` on the AVX2 host of session 3 (bench/README.md):
# a live session on full windows costs 1.4 calibration calls per update (speech makes the decoder write
# and align words: 1.05 s calls against a 0.72 s calibration call with two sessions decoding at once)...
FULL_SPEECH_FACTOR = 1.4
# ... and a session on quick windows costs 2.8 quick calibration calls per update interval, counting the
# full-window flushes at its pauses and endpoints (model seconds per audio second 0.476 at a 1.0 s interval
# and 0.407 at 1.2 s, against a 0.17 s quick call).
QUICK_SESSION_FACTOR = 2.8
# The share of the model's parallel calls that live sessions may fill. Full-window updates queue behind
# each other beyond ~70 %; with quick updates, finalization p95 stayed under 3 s at 48 % (two sessions,
# p95 2.7 s) and passed it at 61 % (three sessions, p95 3.6 s).
FULL_LOAD = 0.7
QUICK_LOAD = 0.5
MAX_CAPACITY = 256


@dataclass(frozen=True, slots=True)
class Calibration:
    """Median seconds per request of one model call, on 8 s of audio."""

    full_call_s: float  # on a full (30 s) encoder window, alone
    quick_call_s: float  # on the shortest window that holds it, in a batch of ``batch``
    parallel: int  # model calls the worker runs at once
    batch: int = 1
    # On a full window while a quick call runs beside it, as a session's previews do (None: not measured).
    # Two calls share the CPU's caches and memory bandwidth: 15-20 % slower on the AVX2 host.
    shared_full_call_s: float | None = None
    # On a full window on the instance that uses every core (None: not loaded), as a lone session decodes.
    wide_full_call_s: float | None = None

    def update_floor_s(self) -> float:
        """The shortest update interval a session sustains (see ``sustainable_update_s``), with its
        previews running beside its updates where they were measured."""
        return sustainable_update_s(max(self.full_call_s, self.shared_full_call_s or 0.0))

    def wide_update_floor_s(self) -> float:
        """The same for calls on every core (the parallel calls' floor where none was measured)."""
        if self.wide_full_call_s is None:
            return self.update_floor_s()
        return sustainable_update_s(self.wide_full_call_s, WIDE_HEADROOM)

    def full_window_sessions(self, update_s: float) -> int:
        """How many sessions updating every ``update_s`` fit on full windows (the rest go quick)."""
        per_session = FULL_SPEECH_FACTOR * self.full_call_s / update_s
        return _sessions(self.parallel * FULL_LOAD, per_session)

    def capacity(self, update_s: float) -> int:
        """How many sessions updating every ``update_s`` on quick windows the worker serves in time."""
        per_session = QUICK_SESSION_FACTOR * self.quick_call_s / update_s
        return max(1, _sessions(self.parallel * QUICK_LOAD, per_session))


def _sessions(budget: float, per_session: float) -> int:
    if per_session <= 0:
        return MAX_CAPACITY
    return min(MAX_CAPACITY, math.floor(round(budget / per_session, 6)))


def _noise(seconds: float) -> np.ndarray:
    samples = np.random.default_rng(0).standard_normal(int(seconds * SAMPLE_RATE)) * 0.01
    return samples.astype(np.float32)


def _median_call_s(
    decoder: Decoder, requests: list[DecodeRequest], runs: int, *, wide: bool = False
) -> float:
    decoder.decode(requests, wide=wide)  # warm-up: the first call of a shape allocates
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        decoder.decode(requests, wide=wide)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _median_call_s_beside(
    decoder: Decoder, requests: list[DecodeRequest], beside: list[DecodeRequest], runs: int
) -> float:
    """``_median_call_s`` while another thread keeps one more model call running."""
    stop = threading.Event()

    def keep_busy() -> None:
        while not stop.is_set():
            decoder.decode(beside)

    thread = threading.Thread(target=keep_busy, name="calibration-beside", daemon=True)
    thread.start()
    try:
        return _median_call_s(decoder, requests, runs)
    finally:
        stop.set()
        thread.join()


def full_window_call_s(decoder: Decoder, runs: int = RUNS) -> float:
    """Median seconds of one model call on a full-window buffer (after one warm-up call)."""
    request = DecodeRequest(audio=_noise(CALIBRATION_AUDIO_S), offset_s=0.0, prompt_text="")
    return _median_call_s(decoder, [request], runs)


def calibrate(
    decoder: Decoder, parallel: int, batch: int = 1, runs: int = RUNS, previews: bool = False
) -> Calibration:
    """Time full-window and quick calls on this machine (about four seconds on a slow CPU), with
    ``previews`` (which run only beside another call: ``parallel`` of 2 or more) a full-window call with a
    quick one beside it (three more), and a full-window call on every core where the decoder has the
    instance for it (two more)."""
    request = DecodeRequest(audio=_noise(CALIBRATION_AUDIO_S), offset_s=0.0, prompt_text="")
    quick = dataclasses.replace(request, quick=True)
    batch = max(1, batch)
    parallel = max(1, parallel)
    shared = None
    if previews and parallel >= 2:
        shared = _median_call_s_beside(decoder, [request], [quick], runs)
    return Calibration(
        full_call_s=_median_call_s(decoder, [request], runs),
        quick_call_s=_median_call_s(decoder, [quick] * batch, runs) / batch,
        parallel=parallel,
        batch=batch,
        shared_full_call_s=shared,
        wide_full_call_s=_median_call_s(decoder, [request], runs, wide=True) if decoder.has_wide else None,
    )


def sustainable_update_s(call_s: float, headroom: float = HEADROOM) -> float:
    """The shortest update interval, in whole ``STEP_S`` steps, that a call of ``call_s`` fits into."""
    return round(math.ceil(round(call_s * headroom / STEP_S, 6)) * STEP_S, 3)
