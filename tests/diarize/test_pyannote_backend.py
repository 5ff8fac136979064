"""The pyannote backend through a local pipeline folder whose weights are RANDOM (see pyannote_folder):
this checks our integration (loading, in-memory audio, hints, output conversion), not quality."""

from __future__ import annotations

from pathlib import Path

import pytest

from ayka.settings import Settings
from diarize.backends import make_diarizer
from diarize.evaluation import Clip
from diarize.pyannote_backend import PyannoteDiarizer
from diarize.types import DiarizationError, Turn
from tests.diarize.pyannote_folder import build_random_pipeline


@pytest.fixture(scope="module")
def pipeline_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_random_pipeline(tmp_path_factory.mktemp("pyannote-pipeline"))


def test_runs_through_a_local_pipeline_folder(pipeline_folder: Path, sample: Clip) -> None:
    settings = Settings(diarize_backend="pyannote", pyannote_pipeline=str(pipeline_folder), asr_device="cpu")
    diarizer = make_diarizer(settings)
    assert isinstance(diarizer, PyannoteDiarizer) and diarizer.name == "pyannote"
    audio = sample.waveform[16000 * 6 : 16000 * 16]
    turns = diarizer.diarize(audio, min_speakers=1, max_speakers=2)
    assert all(isinstance(t, Turn) for t in turns)
    assert all(0.0 <= t.start_s < t.end_s <= 10.0 + 0.1 for t in turns)
    labels = sorted({t.speaker for t in turns})
    assert labels == list(range(len(labels))) and len(labels) <= 2
    assert turns == sorted(turns, key=lambda t: (t.start_s, t.speaker))


def test_missing_weights_fail_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(DiarizationError, match="AYKA_PYANNOTE_PIPELINE is empty"):
        PyannoteDiarizer("")
    with pytest.raises(DiarizationError, match=r"has no config\.yaml"):
        PyannoteDiarizer(str(tmp_path))
    with pytest.raises(DiarizationError, match="AYKA_HF_TOKEN is empty"):
        PyannoteDiarizer("pyannote/speaker-diarization-community-1")
    (tmp_path / "config.yaml").write_text(
        "pipeline:\n  name: pyannote.audio.pipelines.SpeakerDiarization\n"
        "  params:\n    segmentation: $model/segmentation\n    embedding: $model/embedding\n"
        "    plda: $model/plda\n"
    )
    with pytest.raises(DiarizationError, match="cannot load pyannote pipeline"):
        PyannoteDiarizer(str(tmp_path))


def test_off_backend_has_no_diarizer() -> None:
    assert make_diarizer(Settings(diarize_backend="off")) is None
