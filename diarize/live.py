"""Live diarization of one session: the audio so far, and a speaker for each final as it arrives."""

from __future__ import annotations

import asyncio

import numpy as np

from ayka.bus import SpeakerUpdate, TranscriptResult
from diarize.types import SAMPLE_RATE, OnlineSpeakerTracker, Waveform

FRAME_SAMPLES = SAMPLE_RATE // 10  # the gateway's 100 ms frames


class AudioBuffer:
    """PCM16 frames placed by sequence number (a resent frame lands on itself); old audio is dropped.

    Frames are 100 ms except the last of a stream and, in audio published before a Finalize carried the
    start of the next frame, the one a Finalize cut short; so a new frame starts where the one before it
    ended (the bus delivers them in order; a Finalize's start of a frame is overwritten when the frame comes
    whole); a frame not seen yet after a gap is taken as whole frames."""

    def __init__(self, keep_s: float = 120.0) -> None:
        self._pcm = bytearray()
        self._first_sample = 0  # session sample index of self._pcm[0]
        self._keep_samples = int(keep_s * SAMPLE_RATE)
        self._starts: dict[int, int] = {}  # seq -> the session sample where that frame starts (recent)
        self._next_seq = 0  # the frame after the newest one, and where it starts
        self._next_sample = 0
        self.closed = False

    @property
    def covered_s(self) -> float:
        """Audio is present up to here (session clock)."""
        return (self._first_sample + len(self._pcm) // 2) / SAMPLE_RATE

    def add(self, seq: int, pcm: bytes) -> None:
        start = self._starts.get(seq)
        if start is None:
            start = self._next_sample + (seq - self._next_seq) * FRAME_SAMPLES
            self._starts[seq] = start
            if len(self._starts) > 4 * self._keep_samples // FRAME_SAMPLES + 16:
                del self._starts[next(iter(self._starts))]  # the oldest
        if seq >= self._next_seq:
            self._next_seq, self._next_sample = seq + 1, start + len(pcm) // 2
        elif seq == self._next_seq - 1:  # the newest frame again: whole now, after a Finalize gave its start
            self._next_sample = max(self._next_sample, start + len(pcm) // 2)
        following = self._starts.get(seq + 1)
        if following is not None:  # a frame left short (a Finalize's start, then a resume) stays short
            pcm = pcm[: max(following - start, 0) * 2]
        at = (start - self._first_sample) * 2
        if at < 0:
            return  # older than what we keep
        end = at + len(pcm)
        if end > len(self._pcm):
            self._pcm.extend(bytes(end - len(self._pcm)))
        self._pcm[at:end] = pcm
        self._trim()

    def slice(self, start_s: float, end_s: float) -> Waveform:
        lo = max(int(start_s * SAMPLE_RATE) - self._first_sample, 0)
        hi = max(int(end_s * SAMPLE_RATE) - self._first_sample, lo)
        raw = np.frombuffer(bytes(self._pcm[lo * 2 : hi * 2]), dtype=np.int16)
        return (raw.astype(np.float32) / 32768.0).astype(np.float32)

    def _trim(self) -> None:
        excess = len(self._pcm) // 2 - self._keep_samples
        if excess > min(SAMPLE_RATE * 10, self._keep_samples // 2):  # drop in chunks, not every frame
            del self._pcm[: excess * 2]
            self._first_sample += excess


class LiveSession:
    """Feeds finals to the tracker; returns the SpeakerUpdates to publish (this final's, and those of
    earlier finals the tracker relabelled)."""

    def __init__(self, session_id: str, tracker: OnlineSpeakerTracker, keep_s: float = 120.0) -> None:
        self.session_id = session_id
        self.tracker = tracker
        self.audio = AudioBuffer(keep_s)
        self._word_counts: dict[int, int] = {}
        self.labels: dict[int, int] = {}  # final index -> speaker, as last published
        self.store_lock = asyncio.Lock()  # the worker stores labels one at a time (newest wins)

    def label_final(self, result: TranscriptResult) -> list[SpeakerUpdate]:
        """Blocking (runs the embedder): call it from a worker thread."""
        start_s, end_s = _speech_span(result)
        audio = self.audio.slice(start_s, end_s)
        label = self.tracker.assign(audio, start_s, end_s, key=result.index)
        self._word_counts[result.index] = len(result.words)
        self.labels[result.index] = label
        updates = [self._update(result.index, label)]
        for index, new_label in sorted(self.tracker.pop_relabels().items()):
            if self.labels.get(index) != new_label and index in self._word_counts:
                self.labels[index] = new_label
                updates.append(self._update(index, new_label))
        return updates

    def _update(self, index: int, label: int) -> SpeakerUpdate:
        return SpeakerUpdate(
            session_id=self.session_id, final_index=index, speakers=[label] * self._word_counts[index]
        )


def _speech_span(result: TranscriptResult) -> tuple[float, float]:
    """The words' span when there are words (tighter than the result's), else the result's."""
    if result.words:
        return result.words[0].start_s, max(w.end_s for w in result.words)
    return result.start_s, result.end_s
