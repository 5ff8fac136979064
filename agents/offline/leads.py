"""Leads from what each speaker says about themselves: who, where, what they want, money and time.

A speaker becomes a lead when they state a buying signal (an intent, a budget or a timeline) or give
their contact details without sounding like the seller. Everything else in the lead comes from their
own sentences, except the next step, which belongs to the conversation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.offline.contacts import find_emails, find_phones
from agents.offline.text import Sentence, is_generic_speaker
from agents.schema import Evidence, Lead

_NAME_WORD = r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?"
_NAME = rf"(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})"
_INTRO = [
    re.compile(rf"\b(?:[Mm]y name is|[Tt]his is|I'm|I am)\s+{_NAME}"),
    re.compile(rf"^(?:Hi|Hello|Hey)?,?\s*{_NAME}\s+(?:speaking|here)\b"),
]
_NOT_NAMES = {
    "Great",
    "Good",
    "Sorry",
    "Thanks",
    "Thank",
    "Hi",
    "Hello",
    "Yes",
    "No",
    "Okay",
    "Sure",
    "Just",
    "Still",
    "Not",
    "Also",
    "Really",
    "So",
    "Here",
    "Calling",
    "Looking",
    "Interested",
    "Happy",
}
_COMPANY = r"(?P<company>[A-Z][A-Za-z0-9.'-]*(?:\s+(?:&\s+)?[A-Z][A-Za-z0-9.'-]*){0,4})"
_COMPANY_AFTER = re.compile(rf"^[,\s]*(?:at|from|with|of|for)\s+{_COMPANY}")
_COMPANY_FROM = re.compile(rf"\b(?:from|at|with|work for|work at)\s+{_COMPANY}")
_ROLE = re.compile(
    r"\b(?P<role>"
    r"(?:(?:senior|chief|global|regional|general|deputy)\s+)?"
    r"(?:VP|SVP|EVP|[Vv]ice [Pp]resident|[Hh]ead|[Dd]irector|[Mm]anaging [Dd]irector)\s+of\s+[A-Za-z]+"
    r"|CEO|CTO|CFO|COO|CMO|CIO|CISO|CRO"
    r"|(?:[Cc]o-)?[Ff]ounder|[Oo]wner|[Pp]resident"
    r"|[a-z]+\s+(?:director|manager|lead)"
    r"|[Aa]ccount [Ee]xecutive"
    r")\b"
)
_DECISION_ROLE = re.compile(
    r"VP|SVP|EVP|[Vv]ice|[Hh]ead|[Dd]irector|C[EFOTMIR]O|CISO|[Ff]ounder|[Oo]wner|[Pp]resident"
)
_INTENT = re.compile(
    r"\b(?:we(?:'re| are) (?:looking (?:for|to)|interested in|evaluating|considering|shopping for)"
    r"|(?:we|I) (?:want|need|would like|'d like) to (?:buy|purchase|get|replace|find|roll out)"
    r"|(?:we|I) (?:need|want) (?:a|an|something)"
    r"|interested in (?:a|an|your|buying)"
    r"|looking for (?:a|an) (?:better |new )?(?:way|tool|platform|solution|vendor|system))",
    re.IGNORECASE,
)
_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
_MONEY = re.compile(
    rf"(?P<money>[$£€]\s?{_NUMBER}(?:\s?(?:k|K|thousand|million|m|M)\b)?"
    rf"|\b{_NUMBER}\s?(?:k|K)\b"
    rf"|\b{_NUMBER}\s+(?:thousand|million)(?:\s+(?:dollars|pounds|euros))?)"
)
_BUDGET_CUE = re.compile(
    r"\b(?:budget|set aside|allocated|approved|spend|afford|price range|pay up to)", re.IGNORECASE
)
_TIMELINE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bby (?:the )?end of (?:Q[1-4]|the (?:year|quarter|month)|[A-Z][a-z]+)",
        r"\b(?:within|in) the next (?:\w+ )?(?:days|weeks|months|quarters?)",
        r"\bwithin (?:\w+ )?(?:days|weeks|months)",
        r"\bby (?:Q[1-4]|January|February|March|April|May|June|July|August|September|October|November"
        r"|December)\b",
        r"\b(?:next|this) (?:month|quarter|year)\b",
        r"\b(?:in|by) Q[1-4]\b",
        r"\b(?:asap|as soon as possible|right away|immediately)\b",
    )
]
_SELLER = re.compile(
    r"\b(?:what (?:made you|problem|kind of budget)|how can (?:we|I) help|do you have a budget"
    r"|best (?:way|number) to reach|best number|our (?:product|platform|dashboard|solution|team)"
    r"|we offer|I'll send you|pricing proposal)",
    re.IGNORECASE,
)
_NEXT_STEP = re.compile(
    r"\b(?:next step|let's (?:schedule|book|set up)|I'll (?:send|book|schedule|set up)"
    r"|(?:schedule|book) a (?:demo|call|meeting)|follow up)",
    re.IGNORECASE,
)


@dataclass
class _Candidate:
    speaker: str
    person: str | None = None
    company: str | None = None
    role: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    intent: str | None = None
    budget: str | None = None
    timeline: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    seller_cues: int = 0

    def note(self, sentence: Sentence) -> None:
        if all(e.quote != sentence.text for e in self.evidence):
            self.evidence.append(sentence.evidence())

    @property
    def has_buying_signal(self) -> bool:
        """A timeline alone is not one: "next quarter" is said in every planning meeting."""
        return bool(self.intent or self.budget)


def extract_leads(sentences: list[Sentence], phone_region: str = "US") -> list[Lead]:
    candidates: dict[str, _Candidate] = {}
    previous: Sentence | None = None
    for sentence in sentences:
        cand = candidates.setdefault(sentence.speaker, _Candidate(speaker=sentence.speaker))
        _read_sentence(cand, sentence, previous, phone_region)
        previous = sentence
    next_step = _next_step(sentences)
    leads = []
    for cand in candidates.values():
        contact = bool(cand.emails or cand.phones)
        if not (cand.has_buying_signal or (contact and cand.seller_cues == 0)):
            continue
        if cand.person is None and not is_generic_speaker(cand.speaker):
            cand.person = cand.speaker
        leads.append(_to_lead(cand, next_step))
    return leads


def _read_sentence(cand: _Candidate, sentence: Sentence, previous: Sentence | None, region: str) -> None:
    text = sentence.text
    if _SELLER.search(text):
        cand.seller_cues += 1
    introduced = _introduction(text)
    if introduced and (cand.person is None or len(introduced) > len(cand.person)):
        cand.person = introduced
        cand.note(sentence)
    role_match = _ROLE.search(text)
    if role_match and (introduced or re.search(r"\b(?:I'm|I am|my role)\b", text)) and cand.role is None:
        cand.role = role_match.group("role")
        after = _COMPANY_AFTER.match(text[role_match.end() :])
        if after and cand.company is None:
            cand.company = _clean_company(after.group("company"))
        cand.note(sentence)
    if cand.company is None and (introduced or role_match):
        company = _COMPANY_FROM.search(text)
        if company:
            cand.company = _clean_company(company.group("company"))
    for email in find_emails(text):
        if email not in cand.emails:
            cand.emails.append(email)
            cand.note(sentence)
    for phone in find_phones(text, region):
        if phone not in cand.phones:
            cand.phones.append(phone)
            cand.note(sentence)
    if cand.intent is None and _INTENT.search(text):
        cand.intent = text
        cand.note(sentence)
    money = _MONEY.search(text)
    asked = (
        previous is not None and previous.speaker != sentence.speaker and _BUDGET_CUE.search(previous.text)
    )
    if cand.budget is None and money and (_BUDGET_CUE.search(text) or asked):
        cand.budget = money.group("money").strip()
        cand.note(sentence)
    if cand.timeline is None:
        for pattern in _TIMELINE:
            found = pattern.search(text)
            if found:
                cand.timeline = found.group(0)
                cand.note(sentence)
                break


def _introduction(text: str) -> str | None:
    for pattern in _INTRO:
        match = pattern.search(text)
        if match:
            words = match.group("name").split()
            while words and words[-1] in _NOT_NAMES:
                words.pop()
            if words and words[0] not in _NOT_NAMES:
                return " ".join(words)
    return None


def _clean_company(name: str) -> str:
    return name.strip().rstrip(".,")


def _next_step(sentences: list[Sentence]) -> Sentence | None:
    found = [s for s in sentences if _NEXT_STEP.search(s.text)]
    return found[-1] if found else None


def _to_lead(cand: _Candidate, next_step: Sentence | None) -> Lead:
    score = 0
    reasons: list[str] = []

    def add(points: int, reason: str) -> None:
        nonlocal score
        score += points
        reasons.append(f"+{points} {reason}")

    if cand.intent:
        add(20, "stated a need")
    if cand.budget:
        add(20, f"budget {cand.budget}")
    if cand.timeline:
        add(15, f"timeline {cand.timeline}")
    if cand.role and _DECISION_ROLE.search(cand.role):
        add(15, f"decision maker ({cand.role})")
    if cand.emails:
        add(10, "gave an email")
    if cand.phones:
        add(10, "gave a phone number")
    if next_step:
        add(10, "agreed next step")
    evidence = list(cand.evidence)
    if next_step and all(e.quote != next_step.text for e in evidence):
        evidence.append(next_step.evidence())
    return Lead(
        person=cand.person,
        company=cand.company,
        role=cand.role,
        email=cand.emails[0] if cand.emails else None,
        phone=cand.phones[0] if cand.phones else None,
        intent=cand.intent,
        budget=cand.budget,
        timeline=cand.timeline,
        next_step=next_step.text if next_step else None,
        score=min(score, 100),
        score_reasons=reasons,
        evidence=evidence,
    )
