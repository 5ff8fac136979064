"""The real model (tiny.en from its wheel) and the real clip, loaded once per test session."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from stream_asr.config import EngineConfig, FinalPolicy, ResumePoint
from stream_asr.decode import Decoder
from stream_asr.engine import StreamingEngine
from stream_asr.model import ModelConfig, ModelRuntime
from stream_asr.vad import SileroModel
from tests.data.clips import Clip, sample_clip
from tests.stream_asr.drive import FRAME, Emitted, close, feed

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


@pytest.fixture(scope="session")
def clip_run(decoder: Decoder, vad_model: SileroModel, clip: Clip) -> ClipRun:
    """Every event of one uninterrupted streaming run over the sample clip."""
    engine = StreamingEngine(CLIP_CONFIG, vad_model)
    emitted: list[Emitted] = []
    points: list[ResumePoint] = []
    for begin in range(0, len(clip.audio), FRAME):
        emitted += feed(engine, decoder, clip.audio[begin : begin + FRAME])
        if not points or engine.resume_point() != points[-1]:
            points.append(engine.resume_point())
    return ClipRun(emitted + close(engine, decoder), points)
