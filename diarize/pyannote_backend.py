"""pyannote.audio's speaker-diarization pipeline, from a local folder or the hub (with a token).

Weights never download at run time unless a hub id and ``AYKA_HF_TOKEN`` are given; a missing
folder or missing weights raise ``DiarizationError`` with what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from diarize.torchaudio_compat import ensure_torchaudio
from diarize.types import SAMPLE_RATE, DiarizationError, Turn, Waveform


class PyannoteDiarizer:
    name = "pyannote"

    def __init__(self, pipeline: str, token: str = "", device: str = "auto") -> None:
        self._pipeline = _load(pipeline, token, device)

    def diarize(
        self, waveform: Waveform, min_speakers: int | None = None, max_speakers: int | None = None
    ) -> list[Turn]:
        import torch

        audio = {
            "waveform": torch.from_numpy(np.ascontiguousarray(waveform, dtype=np.float32))[None],
            "sample_rate": SAMPLE_RATE,
        }
        kwargs: dict[str, int] = {}
        if min_speakers:
            kwargs["min_speakers"] = min_speakers
        if max_speakers:
            kwargs["max_speakers"] = max_speakers
        try:
            output = self._pipeline(audio, **kwargs)
        except Exception as exc:  # pyannote raises bare ValueError/RuntimeError from deep inside
            raise DiarizationError(f"pyannote pipeline failed: {exc}") from exc
        annotation = getattr(output, "exclusive_speaker_diarization", None) or getattr(
            output, "speaker_diarization", output
        )
        names: dict[Any, int] = {}
        turns = []
        for segment, _, label in annotation.itertracks(yield_label=True):
            speaker = names.setdefault(label, len(names))
            turns.append(Turn(float(segment.start), float(segment.end), speaker))
        return sorted(turns, key=lambda t: (t.start_s, t.speaker))


def _load(pipeline: str, token: str, device: str) -> Any:
    if not pipeline:
        raise DiarizationError(
            "AYKA_PYANNOTE_PIPELINE is empty: name a local pipeline folder (config.yaml + checkpoints) "
            "or a hub id such as pyannote/speaker-diarization-community-1 with AYKA_HF_TOKEN"
        )
    path = Path(pipeline).expanduser()
    is_local = path.exists() or pipeline.startswith((".", "/", "~"))
    if is_local and not (path / "config.yaml").is_file() and not path.is_file():
        raise DiarizationError(f"pyannote pipeline folder {path} has no config.yaml")
    if not is_local and not token:
        raise DiarizationError(
            f"pyannote pipeline {pipeline!r} is not a local folder and AYKA_HF_TOKEN is empty: "
            "download the pipeline once (accepting its terms on the hub) "
            "and point AYKA_PYANNOTE_PIPELINE at its folder"
        )
    try:
        import torch

        ensure_torchaudio()
        from pyannote.audio import Pipeline

        loaded = Pipeline.from_pretrained(str(path) if is_local else pipeline, token=token or None)
    except Exception as exc:
        raise DiarizationError(f"cannot load pyannote pipeline {pipeline!r}: {exc}") from exc
    if loaded is None:
        raise DiarizationError(f"cannot load pyannote pipeline {pipeline!r}: weights not found")
    want_cuda = device in ("cuda", "auto") and torch.cuda.is_available()
    if want_cuda:
        loaded.to(torch.device("cuda"))
    return loaded
