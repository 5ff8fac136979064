"""Precision and recall of extracted leads and events against labeled fixture transcripts.

A fixture is JSON: ``recorded_at``, ``turns`` (``[speaker, text]`` pairs; times are synthesized at a
steady speaking rate) and ``expected`` (``leads`` and ``events`` with the fields that are known). A
field counts as a true positive when the predicted value matches the expected one (normalized per
field), a false positive when a value was predicted that is wrong or not expected, and a false negative
when an expected value was missed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from agents.schema import Event, Lead, Transcript, TranscriptSegment, TranscriptWord

SECONDS_PER_WORD = 0.4
PAUSE_S = 0.5
LEAD_FIELDS = ("person", "company", "role", "email", "phone", "budget", "timeline")
EVENT_FIELDS = ("name", "starts_at", "location", "url")


@dataclass
class Fixture:
    name: str
    transcript: Transcript
    leads: list[dict[str, Any]]
    events: list[dict[str, Any]]


@dataclass
class FieldScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Scores:
    fields: dict[str, FieldScore] = field(default_factory=dict)

    def of(self, name: str) -> FieldScore:
        return self.fields.setdefault(name, FieldScore())


def load_fixture(path: Path) -> Fixture:
    raw = json.loads(path.read_text())
    segments: list[TranscriptSegment] = []
    clock_s = 0.0
    for index, (speaker, text) in enumerate(raw["turns"]):
        words = []
        for token in text.split():
            start_s = round(clock_s, 2)
            words.append(
                TranscriptWord(word=token, start_s=start_s, end_s=round(start_s + SECONDS_PER_WORD - 0.05, 2))
            )
            clock_s += SECONDS_PER_WORD
        segments.append(
            TranscriptSegment(
                index=index,
                speaker=speaker,
                start_s=words[0].start_s,
                end_s=words[-1].end_s,
                text=text,
                words=words,
            )
        )
        clock_s += PAUSE_S
    transcript = Transcript(
        session_id=path.stem.replace("_", "-"),
        segments=segments,
        recorded_at=datetime.fromisoformat(raw["recorded_at"]),
    )
    return Fixture(path.stem, transcript, raw["expected"]["leads"], raw["expected"]["events"])


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9@.+&]+", " ", text.casefold()).strip()


def _contains(expected: str, predicted: str) -> bool:
    e, p = _norm(expected), _norm(predicted)
    return bool(e) and (e in p or p in e) and bool(p)


def _money(text: str) -> float | None:
    match = re.search(r"(\d[\d,]*(?:\.\d+)?)\s*(k|thousand|m|million)?\b", text, re.IGNORECASE)
    if match is None:
        return None
    value = float(match.group(1).replace(",", ""))
    unit = (match.group(2) or "").lower()
    return value * (1000 if unit in {"k", "thousand"} else 1_000_000 if unit in {"m", "million"} else 1)


def _same_moment(expected: str, predicted: str) -> bool:
    if len(expected) == 10:  # a date only
        return predicted[:10] == expected
    try:
        e, p = datetime.fromisoformat(expected), datetime.fromisoformat(predicted)
    except ValueError:
        return False
    if (e.tzinfo is None) != (p.tzinfo is None):
        return False
    return e == p


def _url(text: str) -> str:
    return re.sub(r"^https?://", "", text.casefold()).rstrip("/")


MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "person": lambda e, p: _norm(e) == _norm(p),
    "company": _contains,
    "role": _contains,
    "email": lambda e, p: e.casefold() == p.casefold(),
    "phone": lambda e, p: e == p,
    "budget": lambda e, p: _money(e) is not None and _money(e) == _money(p),
    "timeline": _contains,
    "name": _contains,
    "starts_at": _same_moment,
    "location": _contains,
    "url": lambda e, p: _url(e) == _url(p),
}


def _score_pair(scores: Scores, prefix: str, fields: tuple[str, ...], exp: dict[str, Any], pred: Any) -> None:
    for name in fields:
        expected = exp.get(name)
        predicted = getattr(pred, name) if pred is not None else None
        score = scores.of(f"{prefix}.{name}")
        if expected and predicted:
            if MATCHERS[name](str(expected), str(predicted)):
                score.tp += 1
            else:
                score.fp += 1
                score.fn += 1
        elif expected:
            score.fn += 1
        elif predicted:
            score.fp += 1


def _pair_leads(
    expected: list[dict[str, Any]], predicted: list[Lead]
) -> list[tuple[dict[str, Any], Lead | None]]:
    pairs: list[tuple[dict[str, Any], Lead | None]] = []
    left = list(predicted)
    for exp in expected:
        match = next(
            (
                lead
                for lead in left
                if (lead.person and _norm(lead.person) == _norm(exp.get("person") or ""))
                or (lead.email and lead.email == exp.get("email"))
                or (lead.phone and lead.phone == exp.get("phone"))
            ),
            None,
        )
        if match is not None:
            left.remove(match)
        pairs.append((exp, match))
    return pairs + [({}, lead) for lead in left]  # type: ignore[misc]


def _pair_events(
    expected: list[dict[str, Any]], predicted: list[Event]
) -> list[tuple[dict[str, Any], Event | None]]:
    pairs: list[tuple[dict[str, Any], Event | None]] = []
    left = list(predicted)
    for exp in expected:
        match = next((ev for ev in left if _contains(exp["name"], ev.name)), None)
        if match is not None:
            left.remove(match)
        pairs.append((exp, match))
    return pairs + [({}, event) for event in left]  # type: ignore[misc]


def score_fixture(scores: Scores, fixture: Fixture, leads: list[Lead], events: list[Event]) -> None:
    for exp, lead in _pair_leads(fixture.leads, leads):
        score = scores.of("lead")
        if exp and lead:
            score.tp += 1
        elif exp:
            score.fn += 1
        else:
            score.fp += 1
        _score_pair(scores, "lead", LEAD_FIELDS, exp, lead)
    for exp_ev, event in _pair_events(fixture.events, events):
        score = scores.of("event")
        if exp_ev and event:
            score.tp += 1
        elif exp_ev:
            score.fn += 1
        else:
            score.fp += 1
        _score_pair(scores, "event", EVENT_FIELDS, exp_ev, event)


def fixtures_in(folder: Path) -> list[Fixture]:
    return [load_fixture(path) for path in sorted(folder.glob("*.json"))]
