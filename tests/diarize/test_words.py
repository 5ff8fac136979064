from __future__ import annotations

from dataclasses import dataclass

from diarize.types import Turn
from diarize.words import assign_words, speaker_name


@dataclass(frozen=True)
class W:
    start_s: float
    end_s: float


TURNS = [Turn(0.0, 2.0, 0), Turn(2.0, 3.5, 1), Turn(5.0, 6.0, 0)]


def test_each_word_takes_the_speaker_it_overlaps_most() -> None:
    words = [W(0.1, 0.5), W(1.8, 2.3), W(1.9, 2.05), W(3.0, 3.4)]
    assert assign_words(words, TURNS) == [0, 1, 0, 1]


def test_a_word_outside_every_turn_takes_the_nearest() -> None:
    assert assign_words([W(3.7, 3.9), W(4.6, 4.9), W(7.0, 7.5)], TURNS) == [1, 0, 0]


def test_no_turns_gives_no_speakers() -> None:
    assert assign_words([W(0.0, 1.0)], []) == [None]
    assert assign_words([], TURNS) == []


def test_unsorted_turns_are_fine() -> None:
    assert assign_words([W(5.2, 5.4), W(0.2, 0.4)], list(reversed(TURNS))) == [0, 0]


def test_default_names_count_from_one() -> None:
    assert speaker_name(0) == "Speaker 1"
    assert speaker_name(4) == "Speaker 5"
