"""Emails and phone numbers as people say them and as ASR writes them."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# "raj at northwindhealth dot com", "dana dot w at acme dot co dot uk"
_SPOKEN_EMAIL = re.compile(
    r"\b(?P<local>[a-z0-9]+(?:\s+dot\s+[a-z0-9]+)*)\s+at\s+"
    r"(?P<domain>[a-z0-9-]+(?:\s*(?:\.|\bdot\b)\s*[a-z]{2,})+)\b",
    re.IGNORECASE,
)


# Words that end up before "at" in ordinary speech ("the agenda is at example.com").
_COMMON_WORDS = (
    "is are was were be been me us you them it him her here there look looking see meet meeting "
    "available online live up back it's that's we i they agenda details link page site"
)
_NOT_LOCAL_PARTS = frozenset(_COMMON_WORDS.split())


def _valid_email(candidate: str) -> str | None:
    try:
        return validate_email(candidate.strip(".").lower(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def find_emails(text: str) -> list[str]:
    found: list[str] = []
    for match in _EMAIL.finditer(text):
        email = _valid_email(match.group(0))
        if email and email not in found:
            found.append(email)
    for match in _SPOKEN_EMAIL.finditer(_EMAIL.sub(" ", text)):
        local = re.sub(r"\s+dot\s+", ".", match.group("local").lower())
        if local in _NOT_LOCAL_PARTS:
            continue
        domain = re.sub(r"\s*(?:\.|\bdot\b)\s*", ".", match.group("domain").lower())
        email = _valid_email(f"{local}@{domain}")
        if email and email not in found:
            found.append(email)
    return found


def find_phones(text: str, region: str = "US") -> list[str]:
    """E.164 numbers; ``region`` is where numbers without a country code are assumed to be."""
    found: list[str] = []
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
        number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if number not in found:
            found.append(number)
    return found
