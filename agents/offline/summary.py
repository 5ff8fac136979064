"""An extractive summary: the most central sentences, and the commitments people made."""

from __future__ import annotations

import math
import re
from collections import Counter

from agents.offline.text import Sentence
from agents.schema import ActionItem, Summary

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_STOP_WORDS = """a about above after again all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i i'll i'm if in into is it it's its itself just
    let's me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that that's the their theirs them themselves then there
    there's these they this those through to too under until up very was we we'll we're were what
    when where which while who whom why will with would you you're your yours yourself yourselves
    yes yeah okay ok thanks thank hi hello great good sure right well really like get got one"""
_STOP = frozenset(_STOP_WORDS.split())
_COMMITMENT = re.compile(
    r"\b(?:I'll|I will|we'll|we will|I'm going to|let me|let's)\s+(?P<what>[^.!?]+)", re.IGNORECASE
)
_REQUEST = re.compile(r"\b(?:can you|could you|please)\s+(?P<what>[^.!?]+)", re.IGNORECASE)
_VAGUE = re.compile(r"^(?:try|do that|see|think|be|have a look)\b", re.IGNORECASE)
ABSTRACT_SENTENCES = 2
BULLETS = 5


def _content_words(text: str) -> list[str]:
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in _STOP]


def summarize(sentences: list[Sentence]) -> Summary:
    if not sentences:
        return Summary(abstract="Nothing was said.", bullets=[], action_items=[])
    frequency = Counter(w for s in sentences for w in _content_words(s.text))

    def centrality(sentence: Sentence) -> float:
        words = _content_words(sentence.text)
        if len(words) < 3:
            return 0.0
        return sum(frequency[w] for w in set(words)) / math.sqrt(len(words))

    ranked = sorted(sentences, key=lambda s: (-centrality(s), s.position))
    speakers = list(dict.fromkeys(s.speaker for s in sentences))
    top = sorted(ranked[:ABSTRACT_SENTENCES], key=lambda s: s.position)
    who = ", ".join(speakers[:-1]) + f" and {speakers[-1]}" if len(speakers) > 1 else speakers[0]
    abstract = f"Conversation between {who}. " + " ".join(s.text for s in top)
    bullets = [f"{s.speaker}: {s.text}" for s in sorted(ranked[:BULLETS], key=lambda s: s.position)]
    return Summary(abstract=abstract, bullets=bullets, action_items=_action_items(sentences, speakers))


def _action_items(sentences: list[Sentence], speakers: list[str]) -> list[ActionItem]:
    items: list[ActionItem] = []
    for i, sentence in enumerate(sentences):
        owner: str | None = None
        what: str | None = None
        commitment = _COMMITMENT.search(sentence.text)
        request = _REQUEST.search(sentence.text)
        if commitment:
            what = commitment.group("what")
            owner = sentence.speaker
        elif request:
            what = request.group("what")
            owner = _addressee(sentences, i, speakers)
        if what is None or _VAGUE.match(what.strip()):
            continue
        text = what.strip().rstrip(",")
        if all(item.text != text for item in items):
            items.append(ActionItem(text=text[0].upper() + text[1:], owner=owner))
    return items


def _addressee(sentences: list[Sentence], index: int, speakers: list[str]) -> str | None:
    """Who "can you ..." was said to: the next other speaker to talk, or the only other speaker."""
    speaker = sentences[index].speaker
    for later in sentences[index + 1 :]:
        if later.speaker != speaker:
            return later.speaker
    others = [s for s in speakers if s != speaker]
    return others[0] if len(others) == 1 else None
