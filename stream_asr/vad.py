"""Silero VAD, run frame by frame with onnxruntime (no torch): speech probability per 32 ms window."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime

WINDOW_SAMPLES = 512  # 32 ms at 16 kHz
_CONTEXT_SAMPLES = 64


def default_model_path() -> Path:
    """The Silero v6 ONNX file that ships with faster-whisper."""
    from faster_whisper.utils import get_assets_path

    return Path(get_assets_path()) / "silero_vad_v6.onnx"


class SileroModel:
    """The ONNX session; one per process, shared by every session's ``VadStream`` (``run`` is thread-safe)."""

    def __init__(self, path: Path | None = None) -> None:
        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.enable_cpu_mem_arena = False
        opts.log_severity_level = 4
        self.session = onnxruntime.InferenceSession(
            str(path or default_model_path()), providers=["CPUExecutionProvider"], sess_options=opts
        )

    def stream(self) -> VadStream:
        return VadStream(self)


class VadStream:
    """One session's VAD state (LSTM state and the previous window's tail)."""

    def __init__(self, model: SileroModel) -> None:
        self._model = model
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT_SAMPLES, dtype=np.float32)

    def probability(self, window: np.ndarray) -> float:
        """Speech probability of one window of exactly ``WINDOW_SAMPLES`` float32 samples."""
        if window.shape != (WINDOW_SAMPLES,):
            raise ValueError(f"a VAD window is {WINDOW_SAMPLES} samples, got {window.shape}")
        x = np.concatenate([self._context, window.astype(np.float32, copy=False)])[None, :]
        out, self._h, self._c = self._model.session.run(None, {"input": x, "h": self._h, "c": self._c})
        self._context = window[-_CONTEXT_SAMPLES:].astype(np.float32, copy=True)
        return float(np.asarray(out).reshape(-1)[0])


class SpeechState(enum.Enum):
    SILENCE = "silence"
    SPEECH = "speech"


@dataclass(frozen=True, slots=True)
class VadConfig:
    threshold: float = 0.5  # a window at or above is speech
    neg_threshold: float = 0.35  # a window below is silence (between: keeps the current state)
    min_speech_ms: float = 96.0  # speech this long starts an utterance


class SpeechTransition(enum.Enum):
    NONE = "none"
    STARTED = "started"


@dataclass(slots=True)
class SpeechTracker:
    """Hysteresis over window probabilities: when speech starts, how long the silence after it lasts.

    All counts are in windows, so the state depends on the audio only.
    """

    config: VadConfig
    state: SpeechState = SpeechState.SILENCE
    speech_run: int = 0  # consecutive speech windows while in SILENCE
    silence_run: int = 0  # consecutive silence windows while in SPEECH (or since the last speech)

    def update(self, probability: float) -> SpeechTransition:
        min_speech = max(1, round(self.config.min_speech_ms / 32.0))
        if self.state is SpeechState.SILENCE:
            self.silence_run += 1
            if probability >= self.config.threshold:
                self.speech_run += 1
                if self.speech_run >= min_speech:
                    self.state = SpeechState.SPEECH
                    self.silence_run = 0
                    return SpeechTransition.STARTED
            else:
                self.speech_run = 0
            return SpeechTransition.NONE
        if probability < self.config.neg_threshold:
            self.silence_run += 1
        elif probability >= self.config.threshold:
            self.silence_run = 0
        return SpeechTransition.NONE

    def end_speech(self) -> None:
        """Called by the engine when it declares an endpoint."""
        self.state = SpeechState.SILENCE
        self.speech_run = 0
