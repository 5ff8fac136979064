from __future__ import annotations

import itertools

import numpy as np

from ayka.bus import TranscriptResult, Word
from diarize.embedding import ResemblyzerEmbedder
from diarize.evaluation import Clip
from diarize.live import FRAME_SAMPLES, AudioBuffer, LiveSession
from diarize.online import CentroidTracker


def _frames(waveform: np.ndarray) -> list[bytes]:
    pcm = (np.clip(waveform, -1, 1) * 32767).astype(np.int16).tobytes()
    step = FRAME_SAMPLES * 2
    return [pcm[i : i + step] for i in range(0, len(pcm), step)]


def test_buffer_places_frames_by_sequence_and_trims_old_audio() -> None:
    buffer = AudioBuffer(keep_s=1.0)
    frames = _frames(np.linspace(-0.5, 0.5, 16000 * 3, dtype=np.float32))
    buffer.add(1, frames[1])  # out of order: frame 0 arrives later
    buffer.add(0, frames[0])
    buffer.add(1, frames[1])  # a resend lands on itself
    assert buffer.covered_s == 0.2
    assert np.allclose(buffer.slice(0.0, 0.2), np.linspace(-0.5, 0.5, 16000 * 3)[:3200], atol=1e-4)
    for seq in range(2, len(frames)):
        buffer.add(seq, frames[seq])
    assert buffer.covered_s == 3.0
    assert len(buffer.slice(0.0, 0.5)) == 0  # dropped: older than keep_s (+ slack)
    assert len(buffer.slice(2.5, 3.0)) == 8000


def test_a_short_frame_from_a_finalize_does_not_shift_the_audio_after_it() -> None:
    # A Finalize publishes the audio the gateway holds as a frame shorter than 100 ms; the frames after it
    # start where it ended, not at seq x 100 ms (which put the words' audio 50 ms off the transcript's).
    signal = np.linspace(-0.5, 0.5, 16000 * 2, dtype=np.float32)
    pcm = (np.clip(signal, -1, 1) * 32767).astype(np.int16).tobytes()
    cuts = [0, 3200, 6400, 8000, *range(11200, len(pcm), 3200), len(pcm)]  # frame 2 holds 50 ms
    buffer = AudioBuffer(keep_s=10.0)
    for seq, (begin, end) in enumerate(itertools.pairwise(cuts)):
        buffer.add(seq, pcm[begin:end])
    buffer.add(3, pcm[cuts[3] : cuts[4]])  # a resend still lands on itself
    assert buffer.covered_s == 2.0
    expected = np.frombuffer(pcm, dtype=np.int16)[16000:24000].astype(np.float32) / 32768.0
    assert np.array_equal(buffer.slice(1.0, 1.5), expected)


def test_a_frame_whose_start_came_with_a_finalize_lands_whole_in_place() -> None:
    # A Finalize carries the start of the frame the gateway holds; the frame comes whole later, and the
    # frame after it starts 100 ms after it, not where its start ended.
    signal = np.linspace(-0.5, 0.5, 16000 * 2, dtype=np.float32)
    pcm = (np.clip(signal, -1, 1) * 32767).astype(np.int16).tobytes()
    frames = [pcm[i : i + 3200] for i in range(0, len(pcm), 3200)]
    buffer = AudioBuffer(keep_s=10.0)
    for seq, frame in enumerate(frames):
        if seq == 4:
            buffer.add(seq, frame[:1000])  # the Finalize's start of frame 4
            assert buffer.covered_s == (4 * 3200 + 1000) / 32000
        buffer.add(seq, frame)
    assert buffer.covered_s == 2.0
    expected = np.frombuffer(pcm, dtype=np.int16)[16000:24000].astype(np.float32) / 32768.0
    assert np.array_equal(buffer.slice(1.0, 1.5), expected)


def test_a_frame_left_short_stays_short_when_it_is_resent_whole() -> None:
    # A Finalize gave the start of frame 2, the client resumed without resume_seq and the audio went on at
    # frame 3; a late resend of the whole frame 2 must not write over the start of frame 3.
    pcm = np.arange(16000, dtype=np.int16).tobytes()
    buffer = AudioBuffer(keep_s=10.0)
    buffer.add(0, pcm[:3200])
    buffer.add(1, pcm[3200:6400])
    buffer.add(2, pcm[6400:7400])  # the Finalize's start
    buffer.add(3, pcm[7400:10600])
    before = buffer.slice(0.0, 10600 / 32000)
    buffer.add(2, bytes(3200))  # a whole frame 2 (silence here), resent later
    assert np.array_equal(buffer.slice(0.0, 10600 / 32000)[:3200], before[:3200])
    assert np.array_equal(buffer.slice(0.0, 10600 / 32000)[3700:], before[3700:])


def _final(clip: Clip, index: int) -> TranscriptResult:
    utt = clip.utterances[index]
    texts = utt.text.split() or ["…"]
    step = (utt.end_s - utt.start_s) / len(texts)
    words = [
        Word(
            word=t,
            punctuated_word=t,
            start_s=utt.start_s + i * step,
            end_s=utt.start_s + (i + 1) * step,
            confidence=1,
        )
        for i, t in enumerate(texts)
    ]
    return TranscriptResult(
        session_id="s1",
        is_final=True,
        index=index,
        start_s=utt.start_s,
        end_s=utt.end_s,
        transcript=utt.text,
        words=words,
    )


def test_every_final_gets_one_update_with_a_speaker_per_word(
    sample: Clip, embedder: ResemblyzerEmbedder
) -> None:
    live = LiveSession("s1", CentroidTracker(embedder))
    for seq, frame in enumerate(_frames(sample.waveform)):
        live.audio.add(seq, frame)
    seen: dict[int, list[int]] = {}
    for index in range(len(sample.utterances)):
        updates = live.label_final(_final(sample, index))
        assert updates[0].final_index == index
        for update in updates:
            assert update.session_id == "s1"
            assert len(update.speakers) == len(_final(sample, update.final_index).words)
            seen[update.final_index] = update.speakers
    assert set(seen) == set(range(len(sample.utterances)))
    # the last published label of each final is what the session holds
    assert {i: s[0] for i, s in seen.items()} == live.labels
    by_person: dict[str, set[int]] = {}
    for index, utt in enumerate(sample.utterances):
        by_person.setdefault(utt.speaker, set()).add(live.labels[index])
    assert 2 <= len(set().union(*by_person.values())) <= 3  # label quality: test_online.py
