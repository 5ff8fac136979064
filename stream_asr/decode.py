"""One model call for a batch of decode requests (one per session): audio window + prompt -> words.

A single ``encode`` of the stacked 30 s windows and a single ``generate`` with one prompt per request,
then word alignment, mirroring faster-whisper's own batched pipeline but with a prompt per session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import WhisperModel, get_compression_ratio, get_suppressed_tokens

from stream_asr.model import ModelRuntime

SAMPLE_RATE = 16000
MIN_DECODE_SAMPLES = SAMPLE_RATE // 10  # shorter audio holds no word and crashes the feature extractor
# No speech fills more than this many tokens per second of audio (fast speech is ~5 words/s, ~7 tokens
# with timestamps): a longer hypothesis is a repetition loop, and stopping it early saves up to 0.5 s of
# decoding on a short buffer (the guards drop the loop either way).
MAX_TOKENS_PER_S = 12
MIN_NEW_TOKENS = 24
# Windows for quick requests (the first look at an utterance, and every request while the worker is
# loaded): the encoder's cost is linear in the window, a 10 s window costs a sixth of a 30 s one.
QUICK_BUCKETS_S = (10.0, 20.0, 30.0)
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"


@dataclass(frozen=True, slots=True)
class DecodeRequest:
    """Decode ``audio`` (float32, 16 kHz, at most 30 s) that starts at ``offset_s`` in the session clock."""

    audio: np.ndarray
    offset_s: float
    prompt_text: str
    beam_size: int = 1
    language: str | None = None  # None: English for .en models, detected otherwise
    quick: bool = False  # encode on the shortest window that holds the audio (see Decoder.window_frames)
    final: bool = False  # every word of the hypothesis becomes final (a flush): never made quick under load


@dataclass(frozen=True, slots=True)
class HypothesisWord:
    punctuated: str  # with its leading space stripped
    start_s: float  # session clock
    end_s: float
    probability: float


@dataclass(frozen=True, slots=True)
class HypothesisSegment:
    words: tuple[HypothesisWord, ...]
    text: str
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float


@dataclass(frozen=True, slots=True)
class Hypothesis:
    segments: tuple[HypothesisSegment, ...]
    language: str

    @property
    def words(self) -> tuple[HypothesisWord, ...]:
        return tuple(w for s in self.segments for w in s.words)


class Decoder:
    """Runs batches of ``DecodeRequest`` on one ``ModelRuntime`` (call from one thread at a time)."""

    def __init__(
        self,
        runtime: ModelRuntime,
        max_prompt_tokens: int = 48,
        window_buckets_s: tuple[float, ...] = (30.0,),
        quick_buckets_s: tuple[float, ...] = QUICK_BUCKETS_S,
    ) -> None:
        self.runtime = runtime
        self.max_prompt_tokens = max_prompt_tokens
        self.window_buckets_s = tuple(sorted(min(b, 30.0) for b in window_buckets_s))
        self.quick_buckets_s = tuple(sorted(min(b, 30.0) for b in quick_buckets_s))
        self._model = runtime.whisper
        self._wide_model = runtime.wide_whisper
        self._tokenizers: dict[str | None, Tokenizer] = {}
        self._suppress: list[int] | None = None

    def _tokenizer(self, language: str | None) -> Tokenizer:
        if not self.runtime.multilingual:
            language = "en"
        key = language or "en"
        if key not in self._tokenizers:
            self._tokenizers[key] = Tokenizer(
                self._model.hf_tokenizer, self.runtime.multilingual, task="transcribe", language=key
            )
        return self._tokenizers[key]

    def window_frames(self, request: DecodeRequest) -> int:
        """Encoder input length: the smallest bucket that holds the audio plus a second of padding.

        Whisper was trained on 30 s windows, but CTranslate2 encodes shorter inputs and the encoder's
        cost is linear in their length; buckets (not exact lengths) keep batches possible and make the
        result of a request independent of what it is batched with.
        """
        needed_s = len(request.audio) / SAMPLE_RATE + 1.0
        for bucket_s in self.quick_buckets_s if request.quick else self.window_buckets_s:
            if needed_s <= bucket_s:
                return round(bucket_s * float(self._model.frames_per_second))
        return int(self._model.feature_extractor.nb_max_frames)

    def prompt_tokens(self, request: DecodeRequest) -> list[int]:
        text = request.prompt_text.strip()
        if not text:
            return []
        tokens: list[int] = self._tokenizer(request.language).encode(" " + text)
        return tokens[-self.max_prompt_tokens :]

    @property
    def has_wide(self) -> bool:
        """Whether ``decode(..., wide=True)`` runs on all cores (``ModelConfig.wide_instance``)."""
        return self._wide_model is not None

    def decode(self, requests: Sequence[DecodeRequest], *, wide: bool = False) -> list[Hypothesis]:
        """Decode all requests, batching those that CTranslate2 can run together; ``wide`` runs the call on
        the instance that uses every core (where loaded; the caller runs nothing beside it).

        CTranslate2 needs the start-of-transcript token at one position in a batch, so one model call
        takes the requests with equal beam size and prompt length (long prompts are cut to
        ``max_prompt_tokens``, so sessions with a history all fall in one group).
        """
        model = self._wide_model if wide and self._wide_model is not None else self._model
        groups: dict[tuple[int, int, int], list[int]] = {}
        prompts = [self.prompt_tokens(r) for r in requests]
        out: list[Hypothesis | None] = [None] * len(requests)
        for i, req in enumerate(requests):
            if len(req.audio) < MIN_DECODE_SAMPLES:
                out[i] = Hypothesis(segments=(), language=req.language or "en")
                continue
            groups.setdefault((req.beam_size, len(prompts[i]), self.window_frames(req)), []).append(i)
        for indices in groups.values():
            results = self._decode_group(model, [requests[i] for i in indices], [prompts[i] for i in indices])
            for i, hyp in zip(indices, results, strict=True):
                out[i] = hyp
        return [h for h in out if h is not None]

    def _decode_group(
        self, model: WhisperModel, requests: Sequence[DecodeRequest], previous: list[list[int]]
    ) -> list[Hypothesis]:
        beam = requests[0].beam_size
        frames_per_s = model.frames_per_second
        features = []
        num_frames = []
        durations_s = []
        for req in requests:
            feats = model.feature_extractor(req.audio)
            content = min(feats.shape[-1] - 1, model.feature_extractor.nb_max_frames)
            num_frames.append(content)
            durations_s.append(content / frames_per_s)
            features.append(pad_or_trim(feats[:, :content], self.window_frames(req)))
        encoder_output = model.encode(np.stack(features))

        languages: list[str] = []
        detected: list[str] | None = None
        if self.runtime.multilingual and any(r.language is None for r in requests):
            detected = [langs[0][0][2:-2] for langs in model.model.detect_language(encoder_output)]
        for i, req in enumerate(requests):
            if not self.runtime.multilingual:
                languages.append("en")
            elif req.language is not None:
                languages.append(req.language)
            else:
                assert detected is not None
                languages.append(detected[i])

        tokenizers = [self._tokenizer(lang) for lang in languages]
        if self._suppress is None:
            self._suppress = list(get_suppressed_tokens(tokenizers[0], [-1]))
        prompts = [
            model.get_prompt(tok, prev, without_timestamps=False)
            for tok, prev in zip(tokenizers, previous, strict=True)
        ]

        max_new = MIN_NEW_TOKENS + int(MAX_TOKENS_PER_S * max(durations_s))
        results = model.model.generate(
            encoder_output,
            prompts,
            beam_size=beam,
            patience=1.0,
            length_penalty=1.0,
            max_length=min(model.max_length, max(len(p) for p in prompts) + max_new),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress,
            max_initial_timestamp_index=50,
            sampling_temperature=1.0 if beam > 1 else 0.0,
        )

        batched_segments: list[list[dict[str, Any]]] = []
        sizes: list[int] = []
        scores: list[tuple[float, float]] = []
        for i, result in enumerate(results):
            tokens = result.sequences_ids[0]
            seq_len = len(tokens)
            avg_logprob = result.scores[0] * seq_len / (seq_len + 1)
            scores.append((float(result.no_speech_prob), float(avg_logprob)))
            subsegments, _, _ = model._split_segments_by_timestamps(
                tokenizer=tokenizers[i],
                tokens=tokens,
                time_offset=0.0,
                segment_size=num_frames[i],
                segment_duration=durations_s[i],
                seek=0,
            )
            batched_segments.append(
                [
                    {
                        "tokens": sub["tokens"],
                        "start": sub["start"],
                        "end": sub["end"],
                        "text": tokenizers[i].decode(sub["tokens"]),
                        "seek": 0,
                    }
                    for sub in subsegments
                ]
            )
            sizes.append(num_frames[i])
        if any(batched_segments):
            # Tokenizer only matters for eot/timestamp ids and word splitting (same for one model).
            model.add_word_timestamps(
                batched_segments,
                tokenizers[0],
                encoder_output,
                sizes,
                PREPEND_PUNCTUATIONS,
                APPEND_PUNCTUATIONS,
                0.0,
            )

        hypotheses = []
        for i, req in enumerate(requests):
            no_speech_prob, avg_logprob = scores[i]
            segments = []
            for seg in batched_segments[i]:
                words = tuple(
                    HypothesisWord(
                        punctuated=str(w["word"]).strip(),
                        start_s=round(req.offset_s + float(w["start"]), 3),
                        end_s=round(req.offset_s + float(w["end"]), 3),
                        probability=float(w["probability"]),
                    )
                    for w in seg.get("words", [])
                    if str(w["word"]).strip()
                )
                segments.append(
                    HypothesisSegment(
                        words=words,
                        text=seg["text"],
                        no_speech_prob=no_speech_prob,
                        avg_logprob=avg_logprob,
                        compression_ratio=get_compression_ratio(seg["text"]),
                    )
                )
            hypotheses.append(Hypothesis(segments=tuple(segments), language=languages[i]))
        return hypotheses
