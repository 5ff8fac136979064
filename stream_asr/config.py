"""Per-session engine options and the resume point that lets another worker continue a session."""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field

from stream_asr.events import Word
from stream_asr.guards import GuardConfig
from stream_asr.vad import VadConfig

SAMPLE_RATE = 16000


class FinalPolicy(enum.StrEnum):
    SENTENCE = "sentence"  # a SegmentFinal per committed sentence (and at endpoints)
    COMMIT = "commit"  # a SegmentFinal for every batch of committed words


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Options of one streaming session. All times are in the session's audio clock."""

    update_s: float = 0.6  # a hypothesis update every this much new audio (the scheduler may stretch it)
    first_update_s: float = 0.3  # the first update of an utterance comes this soon after speech starts
    quick_first_update: bool = True  # ... on a short window (a fast first interim; agreement commits)
    beam_size: int = 1
    language: str | None = None  # None: English on .en models, detected on multilingual ones
    interim_results: bool = True
    # Between updates, a quick look at the newest audio this often (audio clock) extends the interim on a
    # model slot no update needs; it never changes what becomes final. None = off (the default: on two
    # cores the look slows the update beside it, and finals come later; bench/README.md).
    preview_every_s: float | None = None
    endpointing_ms: int | None = 300  # silence after speech that makes the tail final; None = off
    pause_ms: int | None = 200  # a shorter pause inside speech makes the words before it final
    max_uncommitted_s: float | None = 1.5  # words older than this commit even without agreement
    utterance_end_ms: int | None = None  # gap after the last word that emits UtteranceEnd; None = off
    trim_s: float = 8.0  # past this, cut the buffer at a committed sentence end ...
    context_s: float = 3.0  # ... at least this long before the last commit: the cut keeps it as context
    max_buffer_s: float = 25.0  # hard cut (Whisper sees at most 30 s)
    prompt_chars: int = 200
    final_policy: FinalPolicy = FinalPolicy.COMMIT
    align_samples: int = 1600  # buffer starts (resume points) fall on 100 ms frame boundaries
    vad: VadConfig = field(default_factory=VadConfig)
    guards: GuardConfig = field(default_factory=GuardConfig)

    def __post_init__(self) -> None:
        if not 0.05 <= self.update_s <= 10.0:
            raise ValueError("update_s must be within 0.05..10")
        if self.max_buffer_s > 29.0 or self.trim_s >= self.max_buffer_s:
            raise ValueError("need trim_s < max_buffer_s <= 29")
        if not 0.0 <= self.context_s < self.trim_s:
            raise ValueError("need 0 <= context_s < trim_s")
        if self.preview_every_s is not None and self.preview_every_s < 0.1:
            raise ValueError("preview_every_s must be >= 0.1 (or None)")
        if self.beam_size < 1:
            raise ValueError("beam_size must be >= 1")


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """A point where everything before is in emitted finals; a new engine started here continues identically.

    Replay the session's audio from ``sample_offset`` (a multiple of ``align_samples``). Audio before
    ``resume_sample`` only refills the buffer; decisions restart there. The other fields are the
    engine's state at ``resume_sample``.
    """

    sample_offset: int = 0
    finals_emitted: int = 0
    prompt_text: str = ""
    resume_sample: int = 0
    last_commit_end_s: float = 0.0
    next_update_sample: int = 0
    in_speech: bool = False
    silence_windows: int = 0
    speech_since_decode: bool = False
    first_update_pending: bool = True
    last_word_end_s: float = 0.0
    utterance_open: bool = False
    pause_fired: bool = False
    finals_at_endpoint: int = 0
    context_words: tuple[Word, ...] = ()  # committed words in the replayed audio (already final)
    finalized_through: int = -1  # the mark (absolute sample) of the last Finalize that fired; -1: none
    finalized_repeat: int = 0  # how many Finalizes fired at that mark (a client may send two at once)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> ResumePoint:
        fields = json.loads(text)
        fields["context_words"] = tuple(Word(**w) for w in fields.get("context_words", ()))
        return cls(**fields)
