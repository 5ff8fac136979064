"""Which diarizer and tracker a process uses, from ``Settings.diarize_backend``."""

from __future__ import annotations

from ayka.settings import DiarizeBackend, Settings
from diarize.embedding import shared_embedder
from diarize.offline import ClusteringDiarizer
from diarize.online import CentroidTracker
from diarize.types import OfflineDiarizer, OnlineSpeakerTracker


def make_diarizer(settings: Settings) -> OfflineDiarizer | None:
    """The post-call diarizer, or None when diarization is off. Raises ``DiarizationError`` when
    the pyannote backend cannot load its pipeline."""
    if settings.diarize_backend is DiarizeBackend.OFF:
        return None
    if settings.diarize_backend is DiarizeBackend.PYANNOTE:
        from diarize.pyannote_backend import PyannoteDiarizer

        return PyannoteDiarizer(settings.pyannote_pipeline, settings.hf_token, settings.asr_device)
    return ClusteringDiarizer(shared_embedder())


def make_tracker(settings: Settings) -> OnlineSpeakerTracker | None:
    """A fresh live tracker for one session (every backend tracks live with the shipped encoder)."""
    if settings.diarize_backend is DiarizeBackend.OFF:
        return None
    return CentroidTracker(shared_embedder())
