"""Test audio: the real two-speaker clip shipped in the pyannote.audio wheel, silence, noise, and WER."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Clip:
    name: str
    audio: np.ndarray  # float32 mono 16 kHz
    reference: str  # the reference transcript
    speech_onsets_s: tuple[float, ...]  # where each reference utterance starts

    @property
    def duration_s(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def _pyannote_sample_dir() -> Path:
    spec = importlib.util.find_spec("pyannote.audio")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("pyannote.audio is not installed (pip install '.[diarize]')")
    return Path(next(iter(spec.submodule_search_locations))) / "sample"


# Where the sample clip can be cut between two utterances: after "...originally from Chicago." (which the
# reference ends at 17.769 s), before "Oh, I'm originally from Chicago also." (17.789 s).
SAMPLE_CUT_S = 17.78


def sample_clip(until_s: float | None = None) -> Clip:
    """pyannote's 30 s two-speaker sample (MIT), with its STM reference transcript; with ``until_s``, only
    its first ``until_s`` seconds and the utterances that end in them (``SAMPLE_CUT_S`` cuts between two)."""
    folder = _pyannote_sample_dir()
    audio, rate = sf.read(folder / "sample.wav", dtype="float32")
    if rate != SAMPLE_RATE or audio.ndim != 1:
        raise ValueError("expected 16 kHz mono")
    texts, onsets = [], []
    for line in (folder / "sample.stm").read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and (until_s is None or float(parts[4]) <= until_s):
            onsets.append(float(parts[3]))
            texts.append(parts[5])
    if until_s is not None:
        audio = audio[: round(until_s * SAMPLE_RATE)]
    return Clip("pyannote-sample", audio, " ".join(texts), tuple(onsets))


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)


def noise(seconds: float, level: float = 0.05, seed: int = 0) -> np.ndarray:
    """Stationary white-ish noise (no speech), reproducible."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(round(seconds * SAMPLE_RATE)) * level).astype(np.float32)


_PUNCT = re.compile(r"[^\w\s']")


def normalise(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def wer(reference: str, hypothesis: str) -> float:
    """WER after Whisper's English text normaliser (the usual one for Whisper evaluations: it maps
    spelling variants, contractions and numbers the same way on both sides)."""
    import jiwer
    from whisper_normalizer.english import EnglishTextNormalizer

    normaliser = EnglishTextNormalizer()
    return float(jiwer.wer(normaliser(reference), normaliser(hypothesis) or "<empty>"))


def plain_wer(reference: str, hypothesis: str) -> float:
    """WER after lower-casing and stripping punctuation only (reported beside ``wer``)."""
    import jiwer

    return float(jiwer.wer(normalise(reference), normalise(hypothesis) or "<empty>"))
