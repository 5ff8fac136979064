"""Scoring diarization: DER by pyannote.metrics, and the reference clip pyannote.audio ships."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diarize.rttm import parse_rttm
from diarize.types import SAMPLE_RATE, Turn, Waveform

Reference = list[tuple[float, float, str]]  # (start_s, end_s, speaker name)


@dataclass(frozen=True, slots=True)
class Utterance:
    """One line of an STM transcript: a stretch of one speaker's speech, with its words."""

    start_s: float
    end_s: float
    speaker: str
    text: str


@dataclass(frozen=True, slots=True)
class Clip:
    name: str
    waveform: Waveform
    reference: Reference
    utterances: list[Utterance]

    @property
    def duration_s(self) -> float:
        return len(self.waveform) / SAMPLE_RATE

    @property
    def speaker_count(self) -> int:
        return len({name for _, _, name in self.reference})


def sample_clip() -> Clip:
    """pyannote.audio's 30 s two-speaker telephone clip (MIT), with its RTTM and STM."""
    import importlib.util

    import soundfile

    # find the package without importing it (importing pyannote.audio pulls in torch and torchaudio)
    spec = importlib.util.find_spec("pyannote.audio")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("pyannote.audio is not installed (pip install 'ayka[diarize]')")
    folder = Path(next(iter(spec.submodule_search_locations))) / "sample"
    waveform, rate = soundfile.read(folder / "sample.wav", dtype="float32")
    if rate != SAMPLE_RATE:
        raise ValueError(f"sample.wav is {rate} Hz, expected {SAMPLE_RATE}")
    reference = parse_rttm((folder / "sample.rttm").read_text())["sample"]
    utterances = []
    for line in (folder / "sample.stm").read_text().splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) >= 5:
            text = fields[5] if len(fields) > 5 else ""
            utterances.append(Utterance(float(fields[3]), float(fields[4]), fields[2], text))
    return Clip("sample", np.asarray(waveform, dtype=np.float32), reference, utterances)


def der(reference: Reference, turns: Sequence[Turn], collar_s: float = 0.0) -> float:
    """Diarization error rate (missed + false alarm + confusion, over reference speech), overlap
    scored, over the whole span of reference and hypothesis."""
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref = Annotation()
    for i, (start_s, end_s, name) in enumerate(reference):
        ref[Segment(start_s, end_s), i] = name
    hyp = Annotation()
    for i, turn in enumerate(turns):
        hyp[Segment(turn.start_s, turn.end_s), i] = f"speaker{turn.speaker}"
    end_s = max([0.0, *(e for _, e, _ in reference), *(t.end_s for t in turns)])
    uem = Timeline([Segment(0.0, end_s)])
    return float(DiarizationErrorRate(collar=collar_s)(ref, hyp, uem=uem))
