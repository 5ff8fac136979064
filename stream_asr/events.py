"""What the engine emits: typed, immutable events with times in the session's audio clock (seconds)."""

from __future__ import annotations

from dataclasses import dataclass

_STRIP = "\"'“”‘’¿¡([{)]}.,!?;:…-—"


def plain_word(punctuated: str) -> str:
    """The bare, lower-case form of a word (Deepgram's ``word``), from its punctuated form."""
    return punctuated.strip().strip(_STRIP).lower()


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word. ``text`` is bare and lower-case; ``punctuated`` is as Whisper wrote it."""

    text: str
    punctuated: str
    start_s: float
    end_s: float
    confidence: float

    @property
    def ends_sentence(self) -> bool:
        return self.punctuated.rstrip("\"'”’)]}").endswith((".", "?", "!", "…"))


def join_words(words: tuple[Word, ...] | list[Word]) -> str:
    return " ".join(w.punctuated for w in words)


@dataclass(frozen=True, slots=True)
class Interim:
    """The current not-yet-final text; replaces the previous ``Interim``.

    ``words`` is everything since the last ``SegmentFinal``: the first ``committed_count`` words are
    committed (they will not change), the rest (``tail``) is the uncommitted hypothesis.
    """

    words: tuple[Word, ...]
    committed_count: int

    @property
    def tail(self) -> tuple[Word, ...]:
        return self.words[self.committed_count :]

    @property
    def transcript(self) -> str:
        return join_words(self.words)


@dataclass(frozen=True, slots=True)
class Committed:
    """Words that will never change (append-only); not yet in a ``SegmentFinal``."""

    words: tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class SegmentFinal:
    """Final text: a committed sentence, or everything committed at an endpoint, finalize or close.

    ``index`` counts the session's finals from 0 (unique per session; survives a resume), so a
    consumer can de-duplicate finals that a replay after a crash emits again.
    """

    index: int
    words: tuple[Word, ...]
    start_s: float
    end_s: float
    speech_final: bool
    from_finalize: bool

    @property
    def transcript(self) -> str:
        return join_words(self.words)


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    timestamp_s: float


@dataclass(frozen=True, slots=True)
class UtteranceEnd:
    last_word_end_s: float


Event = Interim | Committed | SegmentFinal | SpeechStarted | UtteranceEnd
