"""Events mentioned in the call: a named (or generic) event with a date, time, zone, place and link.

Dates are found by pattern and resolved by ``dateparser`` relative to when the call was recorded
(preferring the future: "March 12" said in November is next March); a spoken zone ("9 am Pacific")
makes the time zone-aware, otherwise the time stays local and ``timezone`` is unknown.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import dateparser

from agents.offline.text import Sentence
from agents.schema import Event

_KEYWORDS = (
    r"Summit|Conference|Webinar|Expo|Meetup|Workshop|Forum|Days?|Festival|Hackathon|Symposium|Convention"
    r"|Trade Show|Fair|Week"
)
_CAP = r"[A-Z][\w'&.:-]*"
_NAMED = re.compile(
    rf"\b(?P<name>(?:{_CAP}\s+){{1,5}}(?:{_KEYWORDS})\b(?:\s+(?!(?:On|At|In)\b)[A-Z][a-z]+)?)"
)
_GENERIC = re.compile(
    r"\b(?P<name>webinar|conference|summit|workshop|meetup|trade show|expo|hackathon|product launch)\b",
    re.IGNORECASE,
)
_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_DATE = re.compile(
    rf"\b(?P<date>(?:(?:next|this)\s+)?(?:{_WEEKDAYS})"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})(?:,?\s+\d{{4}})?"
    r"|\d{4}-\d{2}-\d{2}|tomorrow)\b"
)
_TIME = re.compile(
    r"\b(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?)|\b(?P<noon>noon)\b", re.I
)
_ZONES = {
    "pacific": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "mountain": "America/Denver",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "central": "America/Chicago",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "eastern": "America/New_York",
    "et": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "gmt": "Europe/London",
    "bst": "Europe/London",
    "london time": "Europe/London",
    "utc": "UTC",
    "cet": "Europe/Berlin",
    "cest": "Europe/Berlin",
    "ist": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    "aest": "Australia/Sydney",
}
_ZONE = re.compile(r"\b(?P<zone>" + "|".join(sorted(_ZONES, key=len, reverse=True)) + r")\b", re.IGNORECASE)
_LOCATION = re.compile(r"\b(?:at|in)\s+(?:the\s+)?(?P<loc>[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,4})")
_URL = re.compile(
    r"(?<![@\w.])(?P<url>(?:https?://)?(?:[a-z0-9-]+\.)+(?:com|io|eu|org|net|co|ai|dev|app|us|uk|de|events)"
    r"(?:/[\w./?=&%-]*)?)",
    re.IGNORECASE,
)
_URL_WINDOW = 5  # sentences
_NOT_PLACES = re.compile(rf"^(?:{_MONTHS}|{_WEEKDAYS}|Q[1-4])\b|^(?:" + "|".join(_ZONES) + r")$", re.I)


def extract_events(sentences: list[Sentence], recorded_at: datetime | None) -> list[Event]:
    base = (recorded_at or datetime(2000, 1, 1)).replace(tzinfo=None)
    found: list[tuple[int, Event]] = []
    for sentence in sentences:
        name, name_end = _event_name(sentence.text)
        if name is None or any(name.casefold() in e.name.casefold() for _, e in found):
            continue
        rest = sentence.text[name_end:]
        starts_at, zone = _when(rest, base) if _DATE.search(rest) else _when(sentence.text, base)
        event = Event(
            name=name,
            starts_at=starts_at,
            timezone=zone,
            location=_location(rest, name),
            evidence=[sentence.evidence()],
        )
        found.append((sentence.position, event))
    _attach_urls(sentences, found)
    return [event for _, event in found]


def _attach_urls(sentences: list[Sentence], found: list[tuple[int, Event]]) -> None:
    """A link said within a few sentences after an event belongs to the latest such event."""
    for sentence in sentences:
        match = _URL.search(sentence.text)
        if match is None:
            continue
        url = match.group("url").rstrip(".,/")
        before = [e for pos, e in found if 0 <= sentence.position - pos <= _URL_WINDOW]
        if before and before[-1].url is None:
            before[-1].url = url
            if all(ev.quote != sentence.text for ev in before[-1].evidence):
                before[-1].evidence.append(sentence.evidence())


def _event_name(text: str) -> tuple[str | None, int]:
    named = _NAMED.search(text)
    if named:
        words = named.group("name").split()
        while words and words[0] in {"The", "A", "An", "Then", "First", "And", "Our", "We're", "At"}:
            words.pop(0)
        if len(words) >= 2:
            return " ".join(words), named.end()
    generic = _GENERIC.search(_URL.sub(" ", text))
    if generic:
        return generic.group("name").lower(), generic.end()
    return None, 0


def _when(text: str, base: datetime) -> tuple[str | None, str | None]:
    date_match = _DATE.search(text)
    if date_match is None:
        return None, None
    parsed = dateparser.parse(
        date_match.group("date"),
        languages=["en"],
        settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False},
    )
    if parsed is None:
        return None, None
    day: date = parsed.date()
    after = text[date_match.end() :]
    clock = _clock(after) or _clock(text[: date_match.start()])
    if clock is None:
        return day.isoformat(), None
    zone_match = _ZONE.search(after) or _ZONE.search(text)
    moment = datetime.combine(day, clock)
    if zone_match is None:
        return moment.isoformat(), None
    zone = _ZONES[zone_match.group("zone").lower()]
    return moment.replace(tzinfo=ZoneInfo(zone)).isoformat(), zone


def _clock(text: str) -> time | None:
    match = _TIME.search(text)
    if match is None:
        return None
    if match.group("noon"):
        return time(12, 0)
    hour = int(match.group("hour")) % 12
    if match.group("ampm").lower().startswith("p"):
        hour += 12
    minute = int(match.group("minute") or 0)
    if minute > 59:
        return None
    return time(hour, minute)


def _location(text: str, name: str) -> str | None:
    for match in _LOCATION.finditer(text):
        place = match.group("loc").strip()
        if place and place not in name and not _NOT_PLACES.match(place):
            return place
    return None
