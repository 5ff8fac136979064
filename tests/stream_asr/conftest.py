"""The real model (tiny.en from its wheel) and the real clip, loaded once per test session."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from stream_asr.config import EngineConfig, FinalPolicy, ResumePoint
from stream_asr.decode import Decoder
from stream_asr.engine import StreamingEngine
from stream_asr.events import SegmentFinal
from stream_asr.model import ModelConfig, ModelRuntime
from stream_asr.vad import SileroModel
from tests.data.clips import SAMPLE_RATE, Clip, sample_clip
from tests.stream_asr.drive import FRAME, Emitted, close, feed, finals, pump

CLIP_CONFIG = EngineConfig(utterance_end_ms=1000, final_policy=FinalPolicy.COMMIT)


@pytest.fixture(scope="session")
def runtime() -> ModelRuntime:
    return ModelRuntime(ModelConfig(name="tiny.en"))


@pytest.fixture(scope="session")
def wide_runtime() -> ModelRuntime:
    """One call per core, and the instance that runs one call on both (what a worker loads on 2 cores)."""
    runtime = ModelRuntime(ModelConfig(name="tiny.en", cpu_threads=1, parallel_calls=2, wide_instance=True))
    assert runtime.wide_whisper is not None
    return runtime


@pytest.fixture(scope="session")
def decoder() -> Decoder:
    """One model call at a time on every core: the engine tests decode one request after another, so a
    call per core (the worker's way, ``runtime``) would leave the other cores idle (a third slower here)."""
    return Decoder(ModelRuntime(ModelConfig(name="tiny.en", parallel_calls=1)))


@pytest.fixture(scope="session")
def vad_model() -> SileroModel:
    return SileroModel()


@pytest.fixture(scope="session")
def clip() -> Clip:
    return sample_clip()


@dataclass(frozen=True)
class ClipRun:
    emitted: list[Emitted]
    resume_points: list[ResumePoint]  # every distinct resume point the run went through


# Finalizes a client sent while streaming the clip: 12.05 s lies inside a frame (the marker carries that
# frame's start and the frame comes whole later), 19.0 and 25.0 s between frames.
FINALIZE_AT = (12 * SAMPLE_RATE + 800, 19 * SAMPLE_RATE, 25 * SAMPLE_RATE)


def run_with_finalizes(
    engine: StreamingEngine,
    decoder: Decoder,
    clip: Clip,
    *,
    first_frame: int = 0,
    backlog_until: int = 0,
) -> tuple[list[SegmentFinal], list[ResumePoint]]:
    """The clip from frame ``first_frame`` in 100 ms frames, a Finalize at each of ``FINALIZE_AT`` in them;
    frames before ``backlog_until`` are all pushed before the engine runs (a worker's feeder delivers a
    resumed session's backlog faster than the scheduler decodes it)."""
    emitted, points = [], []
    for frame in range(first_frame, -(-len(clip.audio) // FRAME)):
        samples = clip.audio[frame * FRAME : (frame + 1) * FRAME]
        for mark in FINALIZE_AT:
            if frame * FRAME <= mark < (frame + 1) * FRAME:
                cut = mark - frame * FRAME
                engine.push_samples(samples[:cut])
                engine.finalize()
                samples = samples[cut:]
        engine.push_samples(samples)
        if frame >= backlog_until:
            emitted += pump(engine, decoder)
        if not points or engine.resume_point() != points[-1]:
            points.append(engine.resume_point())
    return finals(emitted + close(engine, decoder)), points


def _plain_run(decoder: Decoder, vad_model: SileroModel, clip: Clip) -> ClipRun:
    engine = StreamingEngine(CLIP_CONFIG, vad_model)
    emitted: list[Emitted] = []
    points: list[ResumePoint] = []
    for begin in range(0, len(clip.audio), FRAME):
        emitted += feed(engine, decoder, clip.audio[begin : begin + FRAME])
        if not points or engine.resume_point() != points[-1]:
            points.append(engine.resume_point())
    return ClipRun(emitted + close(engine, decoder), points)


@dataclass(frozen=True)
class ClipRuns:
    plain: ClipRun
    finalized: tuple[list[SegmentFinal], list[ResumePoint]]


@pytest.fixture(scope="session")
def clip_runs(runtime: ModelRuntime, vad_model: SileroModel, clip: Clip) -> ClipRuns:
    """The two runs over the clip that many engine tests compare against, side by side, each on its own
    core (a call per core: ``runtime``): one uninterrupted, one with the Finalizes of ``FINALIZE_AT``."""
    decoder = Decoder(runtime)
    with ThreadPoolExecutor(2) as pool:
        plain = pool.submit(_plain_run, decoder, vad_model, clip)
        finalized = pool.submit(run_with_finalizes, StreamingEngine(CLIP_CONFIG, vad_model), decoder, clip)
        return ClipRuns(plain.result(), finalized.result())


@pytest.fixture(scope="session")
def clip_run(clip_runs: ClipRuns) -> ClipRun:
    """Every event of one uninterrupted streaming run over the sample clip."""
    return clip_runs.plain
