"""One streaming session as a pure state machine: audio in, decode requests out, hypotheses in, events out.

Every decision is made on the audio clock (32 ms VAD windows), never on wall time, so the same audio
gives the same events, and an engine started at a ``ResumePoint`` continues exactly like the original.

Driving loop (the scheduler does this, batching several sessions' decodes)::

    engine.push(pcm)
    while (request := engine.prepare()) is not None:
        engine.apply(decoder.decode([request])[0])
    events = engine.take_events()
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stream_asr.agreement import LocalAgreement
from stream_asr.audio import SampleBuffer, pcm16_to_float
from stream_asr.config import SAMPLE_RATE, EngineConfig, FinalPolicy, ResumePoint
from stream_asr.decode import DecodeRequest, Hypothesis
from stream_asr.events import (
    Committed,
    Event,
    Interim,
    SegmentFinal,
    SpeechStarted,
    UtteranceEnd,
    Word,
    join_words,
    plain_word,
)
from stream_asr.guards import filter_words
from stream_asr.vad import WINDOW_SAMPLES, SileroModel, SpeechState, SpeechTracker, SpeechTransition


class SessionClosed(RuntimeError):
    """Audio or a control message arrived after ``close()``."""


class DecodeKind(enum.Enum):
    UPDATE = "update"  # a LocalAgreement step
    PAUSE = "pause"  # a short pause inside speech: the words before it become final
    ENDPOINT = "endpoint"  # silence after speech: everything becomes final (speech_final)
    FINALIZE = "finalize"  # the client asked: everything becomes final (from_finalize)
    CLOSE = "close"  # end of stream: everything becomes final


@dataclass(frozen=True, slots=True)
class PendingDecode:
    kind: DecodeKind
    request: DecodeRequest
    position: int  # absolute sample where the decision was taken


def _seconds(samples: int) -> float:
    return samples / SAMPLE_RATE


# A preview decodes at most this much audio (it fits the 10 s quick window with its padding), starting
# this long before the last commit so that the first new word is heard whole.
PREVIEW_MAX_S = 8.8
PREVIEW_CONTEXT_S = 1.0


class StreamingEngine:
    """LocalAgreement-2 streaming over a growing buffer, with VAD gating, endpointing and resume."""

    def __init__(
        self, config: EngineConfig, vad_model: SileroModel, resume: ResumePoint | None = None
    ) -> None:
        rp = resume or ResumePoint()
        if rp.sample_offset % config.align_samples or rp.resume_sample < rp.sample_offset:
            raise ValueError("resume point does not fit this configuration")
        self.config = config
        self._vad = vad_model.stream()
        self._tracker = SpeechTracker(config.vad)
        self._agreement = LocalAgreement(rp.last_commit_end_s, list(rp.context_words))
        self._audio = SampleBuffer(rp.sample_offset)
        self._received = rp.sample_offset  # absolute samples received
        self._pos = rp.sample_offset  # absolute samples processed
        self._replay_until = rp.resume_sample
        self._finals = rp.finals_emitted
        self._finals_at_endpoint = rp.finals_at_endpoint
        self._history = rp.prompt_text  # committed text that left the buffer
        self._next_update = rp.next_update_sample
        self._tracker.state = SpeechState.SPEECH if rp.in_speech else SpeechState.SILENCE
        self._tracker.silence_run = rp.silence_windows
        self._speech_since_decode = rp.speech_since_decode
        self._first_update_pending = rp.first_update_pending
        self._last_word_end_s = rp.last_word_end_s
        self._utterance_open = rp.utterance_open
        self._pause_fired = rp.pause_fired
        self._flags_start = rp.resume_sample  # VAD flags known from here; earlier counts as speech
        self._speech_flags: list[bool] = []
        self._unfinal: list[Word] = []  # committed, not yet in a SegmentFinal
        self._last_interim: tuple[Word, ...] = ()
        self._finalize_marks: list[int] = []
        # The last Finalize that fired (its mark, and how many fired there): a resumed engine is handed
        # the replayed Finalize markers again and drops those (``finalize``).
        self._finalized_through = rp.finalized_through
        self._finalized_repeat = rp.finalized_repeat
        self._skip_repeat = rp.finalized_repeat
        self._close_requested = False
        self._pending: PendingDecode | None = None
        # Previews (see ``preview``): how far decisions and previews have looked, how far the last applied
        # decision saw, the preview in flight, and the newest preview's words past the last commit.
        self._looked_until = rp.resume_sample
        self._applied_until = rp.resume_sample
        self._preview_end: int | None = None
        self._preview_until = 0
        self._preview_words: list[Word] = []
        self._quick_next = False  # the next request is an utterance's first look: a quick decode
        # The interval between updates; the scheduler stretches it (never below config.update_s) when
        # the worker serves more sessions (see LoadPolicy).
        self.update_s = config.update_s
        self._events: list[Event] = []
        self.done = False  # the close flush has been emitted
        self._resume = rp

    # ----- input
    @property
    def received_samples(self) -> int:
        return self._received

    @property
    def processed_samples(self) -> int:
        return self._pos

    def push(self, pcm: bytes) -> None:
        self.push_samples(pcm16_to_float(pcm))

    def push_samples(self, samples: np.ndarray) -> None:
        if self._close_requested:
            raise SessionClosed("audio after close")
        self._audio.append(samples.astype(np.float32, copy=False))
        self._received += len(samples)

    def finalize(self, at_sample: int | None = None) -> None:
        """Make everything received so far final (up to the last whole VAD window), or everything up to
        ``at_sample`` (the session sample where the client asked: a Finalize replayed after a resume may
        come after audio that followed it, when the resume point lies inside the frame it cut).

        The mark falls on the 32 ms windows the engine walks from sample 0 (a resumed engine replays up to
        a point on them), so a Finalize replayed after a resume lands where it did first; one that
        already fired before the resume point is dropped."""
        if self._close_requested:
            raise SessionClosed("finalize after close")
        end = self._received if at_sample is None else min(at_sample, self._received)
        mark = end - end % WINDOW_SAMPLES
        if mark < self._finalized_through:
            return
        if mark == self._finalized_through and self._skip_repeat > 0:
            self._skip_repeat -= 1
            return
        self._finalize_marks.append(mark)

    def close(self) -> None:
        self._close_requested = True

    def resume_point(self) -> ResumePoint:
        return self._resume

    def take_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    # ----- prepare: walk the audio clock to the next decision
    def prepare(self) -> DecodeRequest | None:
        """Process audio up to the next point that needs the model; its request, or None when idle."""
        if self._pending is not None:
            return self._pending.request
        if self.done:
            return None
        while True:
            if (
                self._finalize_marks
                and self._pos >= self._finalize_marks[0]
                and self._pos >= self._replay_until
            ):
                mark = self._finalize_marks.pop(0)
                self._finalized_repeat = self._finalized_repeat + 1 if mark == self._finalized_through else 1
                self._finalized_through = mark
                if self._speech_since_decode or self._unfinal or self._agreement.tail:
                    return self._decide(DecodeKind.FINALIZE)
                # The last decode heard every voiced window and left nothing open (a Finalize after a
                # pause, as clients send when the speaker stops): answer it now, as an endpoint does.
                self._flush([], DecodeKind.FINALIZE)
                continue
            if self._pos < self._replay_until:
                step = min(self._replay_until - self._pos, self._received - self._pos)
                if step > 0:
                    self._pos += step
                    continue
                if not self._close_requested:
                    return None
                # The stream ended inside the replayed audio (a shorter replay than the first run heard):
                # decide from here, so that the close flush still comes.
                self._replay_until = self._pos
            if self._received - self._pos < WINDOW_SAMPLES:
                if self._close_requested:
                    self._pos = self._received
                    if self._speech_since_decode or self._unfinal or self._agreement.tail:
                        return self._decide(DecodeKind.CLOSE)
                    self._flush_final([], DecodeKind.CLOSE)
                    self.done = True
                return None
            kind = self._window()
            if kind is not None:
                return self._decide(kind)

    def _window(self) -> DecodeKind | None:
        cfg = self.config
        start = self._pos
        window = self._audio.view(start, start + WINDOW_SAMPLES)
        self._pos += WINDOW_SAMPLES
        transition = self._tracker.update(self._vad.probability(window))
        in_speech = self._tracker.state is SpeechState.SPEECH
        self._speech_flags.append(in_speech or self._tracker.speech_run > 0)
        if transition is SpeechTransition.STARTED:
            onset = self._pos - self._tracker.speech_run * WINDOW_SAMPLES
            self._events.append(SpeechStarted(timestamp_s=round(_seconds(onset), 3)))
            if self._first_update_pending:
                self._next_update = max(self._pos, onset + round(cfg.first_update_s * SAMPLE_RATE))
        if in_speech and self._tracker.silence_run == 0:
            # Only voiced windows call for a decode: the silence that ends an utterance holds no words, so
            # the endpoint after a pause decode flushes what that decode saw instead of decoding again.
            self._speech_since_decode = True
        silence_ms = self._tracker.silence_run * WINDOW_SAMPLES * 1000 / SAMPLE_RATE
        if in_speech:
            end_ms = cfg.endpointing_ms if cfg.endpointing_ms is not None else 800
            if silence_ms >= end_ms:
                self._tracker.end_speech()
                if cfg.endpointing_ms is not None:
                    self._pause_fired = False
                    if self._speech_since_decode or self._unfinal or self._agreement.tail:
                        return DecodeKind.ENDPOINT
                    self._flush([], DecodeKind.ENDPOINT)  # a pause decode already saw all of it
                    return None  # not a second pause: the utterance is over
            if self._tracker.silence_run == 0:
                self._pause_fired = False
            elif cfg.pause_ms is not None and silence_ms >= cfg.pause_ms and not self._pause_fired:
                self._pause_fired = True
                self._next_update = self._pos + round(self.update_s * SAMPLE_RATE)
                return DecodeKind.PAUSE
        if self._pos >= self._next_update:
            self._next_update = self._pos + round(self.update_s * SAMPLE_RATE)
            if self._speech_since_decode:
                self._quick_next = self._first_update_pending
                self._first_update_pending = False
                return DecodeKind.UPDATE
        if not in_speech and cfg.utterance_end_ms is not None and self._utterance_open:
            gap_s = _seconds(self._pos) - self._last_word_end_s
            if gap_s * 1000 >= cfg.utterance_end_ms:
                if self._unfinal or self._agreement.tail:
                    return DecodeKind.ENDPOINT
                self._utterance_open = False
                self._events.append(UtteranceEnd(last_word_end_s=self._last_word_end_s))
        if (
            not in_speech
            and self._tracker.speech_run == 0  # a resume point does not hold a speech start in progress
            and self._tracker.silence_run * WINDOW_SAMPLES >= 2 * SAMPLE_RATE
            and self._pos - self._audio.start > 5 * SAMPLE_RATE // 2
            and not self._speech_since_decode
            and not self._unfinal
            and not self._agreement.tail
        ):
            self._reset(self._pos - SAMPLE_RATE // 2)  # two seconds of silence: the context is over
        return None

    def _decide(self, kind: DecodeKind) -> DecodeRequest:
        start = self._audio.start
        request = DecodeRequest(
            audio=self._audio.view(start, self._pos).copy(),
            offset_s=_seconds(start),
            prompt_text=self._history[-self.config.prompt_chars :],
            beam_size=self.config.beam_size,
            language=self.config.language,
            quick=self._quick_next and self.config.quick_first_update,
            final=kind is not DecodeKind.UPDATE,
        )
        self._quick_next = False
        self._pending = PendingDecode(kind, request, self._pos)
        self._looked_until = max(self._looked_until, self._pos)
        self._speech_since_decode = False
        return request

    # ----- previews: a quick look at the newest audio for an earlier interim
    def preview(self) -> DecodeRequest | None:
        """A quick decode of the audio received up to now, while the next update is not yet due or still
        running; None when none is due: previews off, not in speech, replaying, a preview in flight, or
        less than ``preview_every_s`` of audio since the last look. Its result (``apply_preview``) only
        extends the interim: what becomes final never depends on previews, or on whether they ran."""
        cfg = self.config
        end = self._received
        if (
            cfg.preview_every_s is None
            or not cfg.interim_results
            or self._preview_end is not None
            or self._close_requested
            or self._pos < self._replay_until
            or self._tracker.state is not SpeechState.SPEECH
            or end - self._looked_until < cfg.preview_every_s * SAMPLE_RATE
        ):
            return None
        context = round((self._agreement.last_commit_end_s - PREVIEW_CONTEXT_S) * SAMPLE_RATE)
        begin = max(context, end - round(PREVIEW_MAX_S * SAMPLE_RATE))
        begin = max(begin - begin % cfg.align_samples, self._audio.start)
        before = [w for w in self._agreement.committed_in_buffer if w.end_s <= _seconds(begin)]
        prompt = (self._history + " " + join_words(before)).strip()
        self._preview_end = self._looked_until = end
        return DecodeRequest(
            audio=self._audio.view(begin, end).copy(),
            offset_s=_seconds(begin),
            prompt_text=prompt[-cfg.prompt_chars :],
            language=cfg.language,
            quick=True,
        )

    def apply_preview(self, hypothesis: Hypothesis | None) -> None:
        """The preview's result (None when its model call failed): a new interim if it heard further."""
        end, self._preview_end = self._preview_end, None
        if end is None:
            raise RuntimeError("apply_preview() without a preview")
        if hypothesis is None or end <= self._applied_until or self.done:
            return  # a decode applied since has heard as far

        def has_speech(start_s: float, end_s: float) -> bool:  # the VAD has not walked the newest audio
            return start_s * SAMPLE_RATE >= self._pos or self._has_speech(start_s, end_s)

        self._preview_words = self._agreement.preview(self._words(hypothesis, end, has_speech))
        self._preview_until = end
        self._emit_interim()

    # ----- apply: agreement, events, trimming
    def apply(self, hypothesis: Hypothesis) -> None:
        pending = self._pending
        if pending is None:
            raise RuntimeError("apply() without a prepared request")
        self._pending = None
        self._applied_until = pending.position
        words = self._words(hypothesis, self._pos, self._has_speech)
        cfg = self.config
        if pending.kind is DecodeKind.UPDATE:
            force = None if cfg.max_uncommitted_s is None else _seconds(self._pos) - cfg.max_uncommitted_s
            committed = self._agreement.insert(words, force_before_s=force)
            self._on_committed(committed)
            self._emit_sentence_finals()
            self._emit_interim()
            self._maybe_trim()
            return
        if pending.kind is DecodeKind.PAUSE:
            self._on_committed(self._agreement.commit_all(words))
            self._emit_sentence_finals(everything=True)
            self._emit_interim()
            self._maybe_trim()
            return
        self._flush(words, pending.kind)

    def _flush(self, words: list[Word], kind: DecodeKind) -> None:
        """Endpoint, finalize or close: every word of the hypothesis becomes final."""
        self._on_committed(self._agreement.commit_all(words))
        self._flush_final(list(self._unfinal), kind)
        self._unfinal.clear()
        if kind is DecodeKind.ENDPOINT:
            self._first_update_pending = True
        if kind is DecodeKind.CLOSE:
            self._reset(self._pos)
            self.done = True
        elif _seconds(self._pos - self._audio.start) > self.config.trim_s:
            self._reset(self._pos)

    def _words(
        self, hypothesis: Hypothesis, until: int, has_speech: Callable[[float, float], bool]
    ) -> list[Word]:
        lo_s, hi_s = _seconds(self._audio.start), _seconds(until)
        words = []
        for w in filter_words(hypothesis, self.config.guards, has_speech):
            text = plain_word(w.punctuated)
            if not text:
                continue
            start_s = min(max(w.start_s, lo_s), hi_s)
            end_s = min(max(w.end_s, start_s), hi_s)
            words.append(
                Word(text, w.punctuated, round(start_s, 3), round(end_s, 3), round(w.probability, 4))
            )
        return words

    def _has_speech(self, start_s: float, end_s: float) -> bool:
        first = int(start_s * SAMPLE_RATE)
        if first < self._flags_start:
            return True  # before the last reset the flags are not kept (same in a resumed run)
        lo = (first - self._flags_start) // WINDOW_SAMPLES
        hi = (int(end_s * SAMPLE_RATE) - self._flags_start) // WINDOW_SAMPLES + 1
        return any(self._speech_flags[max(lo, 0) : max(hi, 0)])

    def _on_committed(self, words: list[Word]) -> None:
        if not words:
            return
        self._events.append(Committed(tuple(words)))
        self._unfinal.extend(words)
        self._last_word_end_s = words[-1].end_s
        self._utterance_open = True

    def _emit_sentence_finals(self, everything: bool = False) -> None:
        if not self._unfinal:
            return
        if everything or self.config.final_policy is FinalPolicy.COMMIT:
            cut = len(self._unfinal)
        else:
            ends = [i for i, w in enumerate(self._unfinal) if w.ends_sentence]
            if not ends:
                return
            cut = ends[-1] + 1
        self._final(self._unfinal[:cut], speech_final=False, from_finalize=False)
        del self._unfinal[:cut]

    def _flush_final(self, words: list[Word], kind: DecodeKind) -> None:
        # An endpoint after words that a pause already made final still says so (speech_final, no words).
        endpoint_after_words = kind is DecodeKind.ENDPOINT and self._finals > self._finals_at_endpoint
        if not words and kind is not DecodeKind.FINALIZE and not endpoint_after_words:
            return
        self._final(
            words,
            speech_final=kind in (DecodeKind.ENDPOINT, DecodeKind.CLOSE),
            from_finalize=kind is DecodeKind.FINALIZE,
        )
        if kind is DecodeKind.ENDPOINT:
            self._finals_at_endpoint = self._finals

    def _final(self, words: list[Word], *, speech_final: bool, from_finalize: bool) -> None:
        now_s = round(_seconds(self._pos), 3)
        self._events.append(
            SegmentFinal(
                index=self._finals,
                words=tuple(words),
                start_s=words[0].start_s if words else now_s,
                end_s=words[-1].end_s if words else now_s,
                speech_final=speech_final,
                from_finalize=from_finalize,
            )
        )
        self._finals += 1
        self._last_interim = ()

    def _emit_interim(self) -> None:
        if not self.config.interim_results:
            return
        tail: list[Word] = self._agreement.tail
        if self._preview_until > self._applied_until:  # a preview heard further than the last decode
            tail = self._agreement.preview(self._preview_words)
        words = (*self._unfinal, *tail)
        if words != self._last_interim:
            self._last_interim = words
            self._events.append(Interim(words=words, committed_count=len(self._unfinal)))

    def _maybe_trim(self) -> None:
        cfg = self.config
        length_s = _seconds(self._pos - self._audio.start)
        committed = self._agreement.committed_in_buffer
        if length_s > cfg.trim_s and not self._unfinal and committed and committed[-1].ends_sentence:
            # Cut at the last sentence end that leaves ``context_s`` of transcribed speech in the buffer:
            # on an empty buffer the next utterance's first words are heard at the window's edge, and two
            # guesses from a second of audio agree on wrong words (synthetic calls: WER 0.45 -> 0.40).
            limit = self._agreement.last_commit_end_s - cfg.context_s
            ends = [i for i, w in enumerate(committed) if w.ends_sentence and w.end_s <= limit]
            if ends:
                self._reset(round(committed[ends[-1]].end_s * SAMPLE_RATE), keep_from=ends[-1] + 1)
                return
        if length_s > cfg.max_buffer_s:
            if self._unfinal:
                self._final(list(self._unfinal), speech_final=False, from_finalize=False)
                self._unfinal.clear()
            cut = round(self._agreement.last_commit_end_s * SAMPLE_RATE)
            if cut <= self._audio.start + cfg.align_samples:
                cut = self._pos - 5 * SAMPLE_RATE  # nothing committed for 25 s: drop the oldest audio
            self._reset(cut)

    def _reset(self, cut: int, keep_from: int | None = None) -> None:
        """Cut the buffer at ``cut`` (aligned down) and make this a resume point. Committed words from
        index ``keep_from`` on stay in the buffer as context; the others leave it for the prompt."""
        cfg = self.config
        cut = max(min(cut, self._pos), self._audio.start)
        cut -= cut % cfg.align_samples
        if cut < self._audio.start:
            cut = self._audio.start
        committed = self._agreement.committed_in_buffer
        kept = committed[keep_from:] if keep_from is not None else []
        left = join_words(committed[:keep_from])
        if left:
            self._history = (self._history + " " + left).strip()[-4 * cfg.prompt_chars :]
        self._agreement.reset_buffer()
        self._agreement.committed_in_buffer.extend(kept)
        self._audio.drop_before(cut)
        self._vad.reset()
        self._flags_start = self._pos
        self._speech_flags = []
        self._resume = ResumePoint(
            sample_offset=self._audio.start,
            finals_emitted=self._finals,
            prompt_text=self._history[-cfg.prompt_chars :],
            resume_sample=self._pos,
            last_commit_end_s=self._agreement.last_commit_end_s,
            next_update_sample=self._next_update,
            in_speech=self._tracker.state is SpeechState.SPEECH,
            silence_windows=self._tracker.silence_run,
            speech_since_decode=self._speech_since_decode,
            first_update_pending=self._first_update_pending,
            last_word_end_s=self._last_word_end_s,
            utterance_open=self._utterance_open,
            pause_fired=self._pause_fired,
            finals_at_endpoint=self._finals_at_endpoint,
            context_words=tuple(kept),
            finalized_through=self._finalized_through,
            finalized_repeat=self._finalized_repeat,
        )
