"""Hallucination guards: drop text that Whisper invents from silence, noise or its own loops."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from stream_asr.decode import Hypothesis, HypothesisSegment, HypothesisWord

# What Whisper says over silence or noise (normalised: lower case, no punctuation).
SILENCE_PHRASES = frozenset(
    {
        "you",
        "thank you",
        "thanks",
        "thank you very much",
        "thank you so much",
        "thanks for watching",
        "thank you for watching",
        "thanks for watching and see you next time",
        "please subscribe",
        "subscribe",
        "bye",
        "bye bye",
        "so",
        "okay",
        "oh",
        "uh",
        "um",
        "hmm",
        "music",
        "applause",
        "laughter",
        "silence",
        "the end",
    }
)
_SILENCE_PREFIXES = ("subtitles by", "captions by", "transcribed by", "translated by", "amaraorg", "www")
_NORMALISE = re.compile(r"[^\w\s']+")


def normalise(text: str) -> str:
    return " ".join(_NORMALISE.sub(" ", text.lower()).split())


@dataclass(frozen=True, slots=True)
class GuardConfig:
    no_speech_threshold: float = 0.6
    logprob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    # A known silence phrase is kept only when Whisper is this sure it heard speech.
    phrase_max_no_speech_prob: float = 0.2
    phrase_min_logprob: float = -0.4
    max_repeats: int = 3  # an n-gram repeated more often than this is a decoding loop
    vad_margin_s: float = 0.4  # a word needs VAD speech within this distance of its span


def _is_silence_phrase(text: str) -> bool:
    norm = normalise(text)
    return not norm or norm in SILENCE_PHRASES or norm.replace(" ", "").startswith(_SILENCE_PREFIXES)


def _cut_loops(words: list[HypothesisWord], max_repeats: int) -> list[HypothesisWord]:
    """Collapse an n-gram (n <= 4) repeated back to back more than ``max_repeats`` times to one copy."""
    texts = [normalise(w.punctuated) for w in words]
    kept: list[HypothesisWord] = []
    i = 0
    while i < len(words):
        for n in range(1, 5):
            gram = texts[i : i + n]
            if len(gram) < n:
                break
            j = i + n
            repeats = 1
            while texts[j : j + n] == gram:
                repeats += 1
                j += n
            if repeats > max_repeats:
                kept += words[i : i + n]
                i = j
                break
        else:
            kept.append(words[i])
            i += 1
            continue
        if len(gram) < n:
            kept.append(words[i])
            i += 1
    return kept


def segment_is_hallucination(segment: HypothesisSegment, config: GuardConfig) -> bool:
    if segment.no_speech_prob > config.no_speech_threshold and segment.avg_logprob < config.logprob_threshold:
        return True
    if segment.compression_ratio > config.compression_ratio_threshold:
        return True
    return _is_silence_phrase(segment.text) and (
        segment.no_speech_prob > config.phrase_max_no_speech_prob
        or segment.avg_logprob < config.phrase_min_logprob
    )


def filter_words(
    hypothesis: Hypothesis, config: GuardConfig, has_speech: Callable[[float, float], bool]
) -> list[HypothesisWord]:
    """The words of a hypothesis that survive every guard.

    ``has_speech(start_s, end_s)`` answers whether the VAD heard speech in that span of the session.
    """
    kept: list[HypothesisWord] = []
    for segment in hypothesis.segments:
        if segment_is_hallucination(segment, config):
            continue
        m = config.vad_margin_s
        kept.extend(w for w in segment.words if has_speech(w.start_s - m, w.end_s + m))
    return _cut_loops(kept, config.max_repeats)
