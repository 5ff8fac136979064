from __future__ import annotations

from stream_asr.agreement import LocalAgreement
from stream_asr.events import Word, plain_word


def words(spec: str, start_s: float = 0.0, step_s: float = 0.5) -> list[Word]:
    out = []
    for i, token in enumerate(spec.split()):
        begin = start_s + i * step_s
        out.append(Word(plain_word(token), token, begin, begin + step_s * 0.8, 0.9))
    return out


def test_commits_the_common_prefix_of_two_hypotheses() -> None:
    agreement = LocalAgreement()
    assert agreement.insert(words("hello there my")) == []
    committed = agreement.insert(words("hello there, mine friend"))
    assert [w.punctuated for w in committed] == ["hello", "there,"]  # punctuation may differ
    assert [w.text for w in agreement.tail] == ["mine", "friend"]
    assert agreement.last_commit_end_s == committed[-1].end_s


def test_words_before_the_last_commit_are_skipped() -> None:
    agreement = LocalAgreement()
    agreement.insert(words("one two three"))
    agreement.insert(words("one two three four"))
    assert agreement.insert(words("one two three four five")) == [words("one two three four five")[3]]


def test_a_repeated_word_is_kept_unless_it_overlaps_the_commit() -> None:
    agreement = LocalAgreement()
    agreement.insert(words("hello"))
    assert [w.text for w in agreement.insert(words("hello"))] == ["hello"]
    # Whisper re-places the committed word just after the commit: an overlap, dropped.
    again = words("hello", start_s=agreement.last_commit_end_s + 0.05)
    assert agreement.insert(again) == [] and agreement.tail == []
    # A second "hello" clearly later is a real word.
    later = words("hello", start_s=agreement.last_commit_end_s + 0.6)
    agreement.insert(later)
    assert [w.text for w in agreement.insert(later)] == ["hello"]


def test_force_commit_of_old_words_and_monotonic_times() -> None:
    agreement = LocalAgreement()
    agreement.insert(words("a b c d"))
    committed = agreement.insert(words("x y c d"), force_before_s=1.0)
    assert [w.text for w in committed] == ["x", "y"]  # ended before 1.0 s: committed without agreement
    flushed = agreement.commit_all(words("z q", start_s=0.9))
    assert flushed[0].start_s >= committed[-1].end_s
    assert agreement.tail == []


def test_reset_keeps_only_the_commit_time() -> None:
    agreement = LocalAgreement()
    agreement.insert(words("a b"))
    agreement.insert(words("a b c"))
    end = agreement.last_commit_end_s
    agreement.reset_buffer()
    assert agreement.committed_in_buffer == [] and agreement.tail == []
    assert agreement.last_commit_end_s == end
