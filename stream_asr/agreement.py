"""LocalAgreement-2: commit the longest common prefix of two consecutive hypotheses."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from stream_asr.events import Word

# A new hypothesis may re-place a committed word this much earlier than where it was committed.
_TIME_SLACK_S = 0.1
_MAX_OVERLAP_WORDS = 5
_ONE_WORD_OVERLAP_S = 0.15


@dataclass(slots=True)
class LocalAgreement:
    """Words of the growing buffer: the committed ones, and the previous hypothesis' uncommitted tail."""

    last_commit_end_s: float = 0.0
    committed_in_buffer: list[Word] = field(default_factory=list)
    tail: list[Word] = field(default_factory=list)  # previous hypothesis, past the last commit

    def _new_words(self, words: list[Word]) -> list[Word]:
        """The words of a hypothesis that lie after the last commit (time, then n-gram overlap)."""
        new = [w for w in words if w.start_s > self.last_commit_end_s - _TIME_SLACK_S]
        if new and self.committed_in_buffer and abs(new[0].start_s - self.last_commit_end_s) < 1.0:
            limit = min(len(self.committed_in_buffer), len(new), _MAX_OVERLAP_WORDS)
            for n in range(limit, 0, -1):
                committed = [w.text for w in self.committed_in_buffer[-n:]]
                # One repeated word is often real ("Hello? Hello?"): only drop it when it starts
                # where the committed one ended.
                close = n > 1 or new[0].start_s - self.last_commit_end_s < _ONE_WORD_OVERLAP_S
                if close and committed == [w.text for w in new[:n]]:
                    new = new[n:]
                    break
        return new

    def insert(self, words: list[Word], force_before_s: float | None = None) -> list[Word]:
        """Add a hypothesis; returns the newly committed words (the prefix it shares with the last one).

        Words of the new hypothesis that end before ``force_before_s`` are committed even without
        agreement: when Whisper keeps changing its mind that long, the newest (longest-context) guess wins.
        """
        new = self._new_words(words)
        committed: list[Word] = []
        for previous, current in zip(self.tail, new, strict=False):
            if previous.text != current.text:  # agree on the words; punctuation may still move
                break
            committed.append(current)
        if force_before_s is not None:
            while len(committed) < len(new) and new[len(committed)].end_s <= force_before_s:
                committed.append(new[len(committed)])
        self.tail = new[len(committed) :]
        self._commit(committed)
        return committed

    def preview(self, words: list[Word]) -> list[Word]:
        """The words of a hypothesis past the last commit, changing nothing (for an interim)."""
        return self._new_words(words)

    def commit_all(self, words: list[Word]) -> list[Word]:
        """Commit every word of a hypothesis past the last commit (at an endpoint, finalize, close)."""
        new = self._new_words(words)
        self.tail = []
        self._commit(new)
        return new

    def _commit(self, words: list[Word]) -> None:
        # Commits are monotonic in time even where Whisper places a word a little early.
        for i, word in enumerate(words):
            start_s = max(word.start_s, self.last_commit_end_s)
            fixed = replace(word, start_s=start_s, end_s=max(word.end_s, start_s))
            words[i] = fixed
            self.committed_in_buffer.append(fixed)
            self.last_commit_end_s = fixed.end_s

    def reset_buffer(self) -> None:
        """The audio buffer was cut: forget everything but the time of the last commit."""
        self.committed_in_buffer.clear()
        self.tail.clear()
