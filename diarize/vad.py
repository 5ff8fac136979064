"""Speech regions from Silero VAD (the ONNX model faster-whisper ships, run by onnxruntime)."""

from __future__ import annotations

from dataclasses import dataclass

from diarize.types import SAMPLE_RATE, SpeechRegion, Waveform


@dataclass(frozen=True, slots=True)
class VadConfig:
    threshold: float = 0.5
    min_speech_ms: int = 200
    min_silence_ms: int = 300  # shorter pauses stay inside one region
    speech_pad_ms: int = 60


def speech_regions(waveform: Waveform, config: VadConfig | None = None) -> list[SpeechRegion]:
    """Speech regions of a 16 kHz waveform, in seconds, sorted and non-overlapping."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    cfg = config or VadConfig()
    if waveform.size < SAMPLE_RATE // 10:
        return []
    options = VadOptions(
        threshold=cfg.threshold,
        min_speech_duration_ms=cfg.min_speech_ms,
        min_silence_duration_ms=cfg.min_silence_ms,
        speech_pad_ms=cfg.speech_pad_ms,
    )
    stamps = get_speech_timestamps(waveform, options, sampling_rate=SAMPLE_RATE)
    regions: list[SpeechRegion] = []
    for stamp in stamps:
        start_s = stamp["start"] / SAMPLE_RATE
        end_s = stamp["end"] / SAMPLE_RATE
        if regions and start_s <= regions[-1].end_s:
            regions[-1] = SpeechRegion(regions[-1].start_s, max(end_s, regions[-1].end_s))
        else:
            regions.append(SpeechRegion(start_s, end_s))
    return regions
