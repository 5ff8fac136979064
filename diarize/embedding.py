"""Resemblyzer's speaker encoder (its weights ship inside the PyPI wheel): 256-d unit vectors."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from diarize.types import SAMPLE_RATE, Embedding, Waveform

_MIN_SAMPLES = SAMPLE_RATE // 4  # below 250 ms an embedding is noise; pad up to this
_lock = threading.Lock()
_shared: ResemblyzerEmbedder | None = None


class ResemblyzerEmbedder:
    """Runs the encoder's LSTM on batches of mel windows; one instance per process is enough."""

    dim = 256

    def __init__(self, threads: int = 0) -> None:
        import torch
        from resemblyzer import VoiceEncoder

        if threads > 0:
            torch.set_num_threads(threads)
        self._torch: Any = torch
        self._encoder: Any = VoiceEncoder(device="cpu", verbose=False)
        self._encoder.eval()

    def embed(self, waveform: Waveform) -> Embedding:
        first: Embedding = self.embed_batch([waveform])[0]
        return first

    def embed_batch(self, windows: Sequence[Waveform]) -> npt.NDArray[np.float32]:
        from resemblyzer.audio import wav_to_mel_spectrogram

        if not windows:
            return np.zeros((0, self.dim), dtype=np.float32)
        mels = [wav_to_mel_spectrogram(_pad(w)) for w in windows]
        out = np.zeros((len(mels), self.dim), dtype=np.float32)
        # LSTMs need equal lengths in one batch: group windows by frame count.
        by_len: dict[int, list[int]] = {}
        for i, mel in enumerate(mels):
            by_len.setdefault(mel.shape[0], []).append(i)
        torch = self._torch
        with torch.inference_mode():
            for idx in by_len.values():
                batch = torch.from_numpy(np.stack([mels[i] for i in idx]))
                out[idx] = self._encoder(batch).numpy()
        return out


def _pad(waveform: Waveform) -> Waveform:
    wav = np.asarray(waveform, dtype=np.float32)
    if wav.size >= _MIN_SAMPLES:
        return wav
    return np.pad(wav, (0, _MIN_SAMPLES - wav.size))


def shared_embedder(threads: int = 0) -> ResemblyzerEmbedder:
    """The process-wide encoder, loaded and warmed up on first use (a few seconds), then kept."""
    global _shared
    with _lock:
        if _shared is None:
            embedder = ResemblyzerEmbedder(threads)
            # the first call compiles librosa's kernels (numba) and warms torch: now, not on a live final
            embedder.embed(np.zeros(SAMPLE_RATE, dtype=np.float32))
            _shared = embedder
        return _shared
