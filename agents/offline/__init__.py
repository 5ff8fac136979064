"""The offline engine: deterministic extraction with no LLM (patterns, dateparser, phonenumbers)."""

from __future__ import annotations

from agents.offline.drafts import draft_email
from agents.offline.events import extract_events
from agents.offline.leads import extract_leads
from agents.offline.summary import summarize
from agents.offline.text import Sentence, is_generic_speaker, sentences_of
from agents.schema import AgentsResult, EmailDraft, Engine, Lead, Transcript

__all__ = ["draft_email", "draft_emails", "extract_events", "extract_leads", "run_offline", "summarize"]


def draft_emails(transcript: Transcript, leads: list[Lead]) -> list[EmailDraft]:
    """One draft per lead, signed by the speaker who is not a lead (the seller) when there is one."""
    sender = _sender(sentences_of(transcript), leads)
    return [draft_email(lead, sender=sender) for lead in leads]


def _sender(sentences: list[Sentence], leads: list[Lead]) -> str | None:
    lead_names = {lead.person for lead in leads}
    talk: dict[str, int] = {}
    for sentence in sentences:
        if sentence.speaker not in lead_names and not is_generic_speaker(sentence.speaker):
            talk[sentence.speaker] = talk.get(sentence.speaker, 0) + len(sentence.text)
    return max(talk, key=lambda name: talk[name]) if talk else None


def run_offline(transcript: Transcript, phone_region: str = "US") -> AgentsResult:
    sentences = sentences_of(transcript)
    leads = extract_leads(sentences, phone_region)
    return AgentsResult(
        summary=summarize(sentences),
        summary_engine=Engine.OFFLINE,
        leads=leads,
        leads_engine=Engine.OFFLINE,
        events=extract_events(sentences, transcript.recorded_at),
        events_engine=Engine.OFFLINE,
        drafts=draft_emails(transcript, leads),
        drafts_engine=Engine.OFFLINE,
    )
