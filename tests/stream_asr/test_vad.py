from __future__ import annotations

import pytest

from stream_asr.vad import (
    WINDOW_SAMPLES,
    SileroModel,
    SpeechState,
    SpeechTracker,
    SpeechTransition,
    VadConfig,
)
from tests.data.clips import SAMPLE_RATE, Clip, noise, silence


def test_speech_probability_per_window(vad_model: SileroModel, clip: Clip) -> None:
    stream = vad_model.stream()
    quiet = silence(1.0)
    probs = [stream.probability(quiet[i : i + WINDOW_SAMPLES]) for i in range(0, 16000 - 511, WINDOW_SAMPLES)]
    assert max(probs) < 0.2
    stream.reset()
    speech = clip.audio[round(15.0 * SAMPLE_RATE) : round(17.0 * SAMPLE_RATE)]  # Sheila talking
    probs = [stream.probability(speech[i : i + WINDOW_SAMPLES]) for i in range(0, len(speech) - 511, 512)]
    assert sum(p > 0.5 for p in probs) > 0.7 * len(probs)
    stream.reset()
    hiss = noise(1.0, level=0.1)
    probs = [stream.probability(hiss[i : i + WINDOW_SAMPLES]) for i in range(0, 16000 - 511, WINDOW_SAMPLES)]
    assert max(probs) < 0.5
    with pytest.raises(ValueError, match="512 samples"):
        stream.probability(quiet[:100])


def test_hysteresis() -> None:
    tracker = SpeechTracker(VadConfig(threshold=0.5, neg_threshold=0.35, min_speech_ms=96))
    assert [tracker.update(p) for p in (0.9, 0.2, 0.9, 0.9)] == [SpeechTransition.NONE] * 4
    assert tracker.update(0.9) is SpeechTransition.STARTED
    assert tracker.state is SpeechState.SPEECH
    tracker.update(0.4)  # between thresholds: not silence yet
    assert tracker.silence_run == 0
    tracker.update(0.1)
    tracker.update(0.1)
    assert tracker.silence_run == 2
    tracker.update(0.8)
    assert tracker.silence_run == 0
    tracker.end_speech()
    assert tracker.state.value == SpeechState.SILENCE.value
