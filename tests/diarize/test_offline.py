from __future__ import annotations

import itertools

import pytest

from diarize.embedding import ResemblyzerEmbedder
from diarize.evaluation import Clip, der
from diarize.offline import ClusteringDiarizer
from diarize.types import Turn


@pytest.fixture(scope="module")
def turns(sample: Clip, embedder: ResemblyzerEmbedder) -> list[Turn]:
    return ClusteringDiarizer(embedder).diarize(sample.waveform)


def test_post_call_der_on_the_sample_clip(sample: Clip, turns: list[Turn]) -> None:
    assert der(sample.reference, turns, collar_s=0.25) <= 0.15


def test_finds_the_two_speakers(turns: list[Turn]) -> None:
    assert {t.speaker for t in turns} == {0, 1}


def test_turns_are_ordered_and_disjoint(sample: Clip, turns: list[Turn]) -> None:
    for a, b in itertools.pairwise(turns):
        assert a.end_s <= b.start_s + 1e-9
        assert a.start_s < a.end_s
    assert turns[0].start_s >= 0.0 and turns[-1].end_s <= sample.duration_s + 1e-6


def test_speaker_count_hints(sample: Clip, embedder: ResemblyzerEmbedder) -> None:
    diarizer = ClusteringDiarizer(embedder)
    assert {t.speaker for t in diarizer.diarize(sample.waveform, max_speakers=1)} == {0}
    assert {t.speaker for t in diarizer.diarize(sample.waveform, min_speakers=3)} == {0, 1, 2}


def test_silence_has_no_turns(embedder: ResemblyzerEmbedder) -> None:
    import numpy as np

    assert ClusteringDiarizer(embedder).diarize(np.zeros(16000 * 3, dtype=np.float32)) == []
