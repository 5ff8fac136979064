from __future__ import annotations

from stream_asr.decode import Hypothesis, HypothesisSegment, HypothesisWord
from stream_asr.guards import GuardConfig, filter_words, normalise, segment_is_hallucination


def segment(
    text: str, no_speech: float = 0.05, logprob: float = -0.2, ratio: float = 1.2
) -> HypothesisSegment:
    ws = tuple(HypothesisWord(t, i * 0.4, i * 0.4 + 0.3, 0.9) for i, t in enumerate(text.split()))
    return HypothesisSegment(ws, text, no_speech, logprob, ratio)


def always(_: float, __: float) -> bool:
    return True


def test_known_silence_phrases_are_dropped_unless_confident() -> None:
    config = GuardConfig()
    assert segment_is_hallucination(segment(" Thanks for watching!", no_speech=0.5), config)
    assert segment_is_hallucination(segment(" you", logprob=-0.9), config)
    assert not segment_is_hallucination(segment(" Thank you.", no_speech=0.01, logprob=-0.1), config)
    assert not segment_is_hallucination(segment(" I didn't know you were there."), config)


def test_no_speech_and_compression_ratio() -> None:
    config = GuardConfig()
    assert segment_is_hallucination(segment(" so so", no_speech=0.9, logprob=-1.5), config)
    assert segment_is_hallucination(segment(" la la la la", ratio=3.0), config)
    assert not segment_is_hallucination(segment(" hello there", no_speech=0.9, logprob=-0.3), config)


def test_loops_collapse_and_vad_gate() -> None:
    hyp = Hypothesis((segment(" I said the the the the the end"),), "en")
    kept = [w.punctuated for w in filter_words(hyp, GuardConfig(), always)]
    assert kept == ["I", "said", "the", "end"]
    # VAD heard nothing anywhere: nothing survives.
    assert filter_words(hyp, GuardConfig(), lambda a, b: False) == []


def test_normalise() -> None:
    assert normalise(" Thanks for watching!!") == "thanks for watching"
