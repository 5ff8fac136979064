"""The CUDA path of the engine: float16 on a GPU, and several sessions batched into one model call.

These run only where a CUDA GPU is present (the lent GPU machine); on a CPU-only machine they skip and
say so. The CPU path of the same engine is tested in test_engine.py and test_scheduler.py."""

from __future__ import annotations

import pytest

from stream_asr.decode import Decoder
from stream_asr.engine import StreamingEngine
from stream_asr.model import Device, ModelConfig, ModelRuntime, cuda_available
from stream_asr.vad import SileroModel
from tests.data.clips import Clip, wer
from tests.stream_asr.conftest import CLIP_CONFIG
from tests.stream_asr.drive import FRAME, Emitted, close, feed, final_text

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not cuda_available(), reason="needs a CUDA GPU; this machine has none"),
]

SESSIONS = 4


@pytest.fixture(scope="module")
def gpu_runtime() -> ModelRuntime:
    return ModelRuntime(ModelConfig(name="tiny.en", device=Device.CUDA))


def test_the_model_runs_on_the_gpu_in_float16(gpu_runtime: ModelRuntime) -> None:
    assert gpu_runtime.device == "cuda"
    assert gpu_runtime.compute_type == "float16"
    assert gpu_runtime.parallel_calls == 1  # one call at a time; sessions share it by batching


def test_streaming_on_the_gpu_is_no_worse_than_offline(
    gpu_runtime: ModelRuntime, vad_model: SileroModel, clip: Clip
) -> None:
    segments, _ = gpu_runtime.whisper.transcribe(clip.audio, beam_size=5, language="en", vad_filter=True)
    offline = wer(clip.reference, " ".join(s.text for s in segments))
    decoder = Decoder(gpu_runtime)
    engine = StreamingEngine(CLIP_CONFIG, vad_model)
    emitted = feed(engine, decoder, clip.audio) + close(engine, decoder)
    assert wer(clip.reference, final_text(emitted)) <= offline + 1e-9


def test_sessions_batched_into_one_call_each_get_their_own_words(
    gpu_runtime: ModelRuntime, vad_model: SileroModel, clip: Clip
) -> None:
    """Four sessions in lockstep, every due update of all of them decoded in one batched call: each
    session's text is what it gets alone."""
    decoder = Decoder(gpu_runtime)
    alone = StreamingEngine(CLIP_CONFIG, vad_model)
    alone_text = final_text(feed(alone, decoder, clip.audio) + close(alone, decoder))

    engines = [StreamingEngine(CLIP_CONFIG, vad_model) for _ in range(SESSIONS)]
    emitted: list[list[Emitted]] = [[] for _ in engines]
    batch_sizes: list[int] = []

    def step() -> None:
        while True:
            due = [(i, r) for i, e in enumerate(engines) if (r := e.prepare()) is not None]
            if not due:
                break
            batch_sizes.append(len(due))
            for (i, _), hypothesis in zip(due, decoder.decode([r for _, r in due]), strict=True):
                engines[i].apply(hypothesis)
        for i, engine in enumerate(engines):
            emitted[i] += [Emitted(engine.processed_samples / 16000, e) for e in engine.take_events()]

    for begin in range(0, len(clip.audio), FRAME):
        for engine in engines:
            engine.push_samples(clip.audio[begin : begin + FRAME])
        step()
    for engine in engines:
        engine.close()
    step()

    assert max(batch_sizes) == SESSIONS, "the sessions' updates were never batched together"
    texts = [final_text(e) for e in emitted]
    assert all(wer(alone_text, text) <= 0.05 for text in texts), (alone_text, texts)
