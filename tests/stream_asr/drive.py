"""Drive an engine synchronously over audio, faster than real time (the scheduler minus threads)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stream_asr.decode import Decoder
from stream_asr.engine import StreamingEngine
from stream_asr.events import Event, SegmentFinal

FRAME = 1600  # 100 ms


@dataclass(frozen=True)
class Emitted:
    position_s: float  # audio position of the engine when the event came out
    event: Event


def feed(
    engine: StreamingEngine, decoder: Decoder, audio: np.ndarray, *, frame: int = FRAME
) -> list[Emitted]:
    out: list[Emitted] = []
    for begin in range(0, len(audio), frame):
        engine.push_samples(audio[begin : begin + frame])
        out += pump(engine, decoder)
    return out


def pump(engine: StreamingEngine, decoder: Decoder) -> list[Emitted]:
    out: list[Emitted] = []
    while (request := engine.prepare()) is not None:
        engine.apply(decoder.decode([request])[0])
    position_s = engine.processed_samples / 16000
    out += [Emitted(position_s, e) for e in engine.take_events()]
    return out


def close(engine: StreamingEngine, decoder: Decoder) -> list[Emitted]:
    engine.close()
    return pump(engine, decoder)


def finals(emitted: list[Emitted]) -> list[SegmentFinal]:
    return [e.event for e in emitted if isinstance(e.event, SegmentFinal)]


def final_text(emitted: list[Emitted]) -> str:
    return " ".join(f.transcript for f in finals(emitted) if f.words)
