"""From the platform's settings and a client's stream options to the engine's and model's configuration."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from stream_asr.config import EngineConfig
from stream_asr.model import Device, ModelConfig

if TYPE_CHECKING:  # type-only: the engine does not depend on the bus at run time
    from ayka.bus import StreamOptions
    from ayka.settings import Settings

_DETECT = {"", "multi", "auto", "detect"}


def model_config(settings: Settings) -> ModelConfig:
    return ModelConfig(
        name=settings.asr_model,
        device=Device(settings.asr_device),
        compute_type=settings.asr_compute_type,
        cpu_threads=settings.asr_cpu_threads,
        parallel_calls=settings.asr_parallel_calls,
        wide_instance=settings.asr_wide_sessions > 0,
        cache_dir=Path(settings.data_dir) / "models",
    )


def engine_config(options: StreamOptions, settings: Settings) -> EngineConfig:
    """One session's engine options: the client's Deepgram parameters over the worker's settings."""
    language = options.language.strip().lower() if options.language else ""
    return EngineConfig(
        update_s=settings.asr_update_s,
        preview_every_s=settings.asr_preview_s or None,
        beam_size=settings.asr_beam_size,
        context_s=settings.asr_context_s,
        language=None if language in _DETECT else language.split("-")[0],
        interim_results=options.interim_results,
        endpointing_ms=options.endpointing_ms,
        utterance_end_ms=options.utterance_end_ms,
    )
