"""The offline extractor on labeled fixture transcripts (no LLM, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.evaluation import Fixture, Scores, fixtures_in, load_fixture, score_fixture
from agents.offline import run_offline
from agents.offline.contacts import find_emails, find_phones
from agents.schema import Engine, Transcript, TranscriptSegment

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def fixtures() -> list[Fixture]:
    return fixtures_in(FIXTURES)


def test_precision_and_recall_over_all_fixtures(fixtures: list[Fixture]) -> None:
    scores = Scores()
    for fixture in fixtures:
        result = run_offline(fixture.transcript)
        score_fixture(scores, fixture, result.leads, result.events)
    lead, event = scores.of("lead"), scores.of("event")
    assert lead.tp >= 5 and lead.precision >= 0.9 and lead.recall >= 0.9
    assert event.precision >= 0.75 and event.recall >= 0.75
    for name in ("lead.email", "lead.phone", "lead.budget", "lead.person", "event.starts_at"):
        assert scores.of(name).precision >= 0.7, name
        assert scores.of(name).recall >= 0.7, name


def test_a_discovery_call_gives_the_full_lead_with_evidence() -> None:
    fixture = load_fixture(FIXTURES / "saas_demo.json")
    result = run_offline(fixture.transcript)
    assert result.leads_engine is Engine.OFFLINE
    (lead,) = result.leads
    assert lead.person == "Dana Whitfield"
    assert lead.company == "Acme Logistics"
    assert lead.role == "VP of Operations"
    assert lead.email == "dana.whitfield@acmelogistics.com"
    assert lead.phone == "+14155550142"
    assert lead.budget == "$40,000"
    assert lead.timeline == "by the end of Q3"
    assert lead.intent and "track our delivery drivers" in lead.intent
    assert lead.next_step and "demo" in lead.next_step
    assert lead.score == 100 and len(lead.score_reasons) == 7
    segments = fixture.transcript.segments
    for evidence in lead.evidence:
        # Evidence links back to the moment: the quote is inside a segment whose time span contains it.
        holder = next(s for s in segments if evidence.quote in s.text)
        assert holder.start_s <= evidence.start_s < evidence.end_s <= holder.end_s
        assert evidence.speaker == holder.speaker
    assert any(e.speaker == "Dana Whitfield" and "$40,000" in e.quote for e in lead.evidence)


def test_the_seller_is_not_a_lead_and_the_draft_is_signed_by_them() -> None:
    result = run_offline(load_fixture(FIXTURES / "saas_demo.json").transcript)
    assert [lead.person for lead in result.leads] == ["Dana Whitfield"]
    (draft,) = result.drafts
    assert draft.subject == "Following up on our call — Acme Logistics"
    assert draft.body.startswith("Hi Dana,")
    assert "$40,000" in draft.body and "Maya Chen" in draft.body


def test_events_have_iso_times_with_the_spoken_zone() -> None:
    result = run_offline(load_fixture(FIXTURES / "saas_demo.json").transcript)
    (event,) = result.events
    assert event.name == "Brightwave Customer Summit"
    assert event.starts_at == "2027-03-12T09:00:00-08:00"  # "March 12 at 9 am Pacific", said in November 2026
    assert event.timezone == "America/Los_Angeles"
    assert event.location == "Moscone Center"
    assert event.url == "brightwave.io/summit"


def test_generic_speaker_labels_take_the_names_people_introduce() -> None:
    result = run_offline(load_fixture(FIXTURES / "generic_speakers.json").transcript)
    by_person = {lead.person: lead for lead in result.leads}
    assert set(by_person) == {"Raj Patel", "Sofia Alvarez"}
    assert (
        by_person["Raj Patel"].email == "raj@northwindhealth.com"
    )  # spoken: "raj at northwindhealth dot com"
    assert by_person["Sofia Alvarez"].budget == "120k"
    assert result.events[0].starts_at == "2026-11-26T14:00:00-05:00"  # "next Thursday at 2 pm Eastern"


def test_a_call_without_leads_or_events_yields_none() -> None:
    result = run_offline(load_fixture(FIXTURES / "internal_standup.json").transcript)
    assert result.leads == [] and result.drafts == [] and result.events == []
    assert result.summary.abstract.startswith("Conversation between Priya, Tom and Ana.")
    owners = {item.owner for item in result.summary.action_items}
    assert "Tom" in owners and "Priya" in owners  # "I'll add logging", "I'll address them"


def test_summary_action_items_name_their_owner() -> None:
    result = run_offline(load_fixture(FIXTURES / "generic_speakers.json").transcript)
    items = {item.text: item.owner for item in result.summary.action_items}
    assert items["Send the questionnaire and a pricing proposal by Friday"] == "Speaker 1"
    # "Can you also send over a security questionnaire?" is asked of the next speaker.
    assert items["Also send over a security questionnaire?"[:-1]] == "Speaker 1"
    assert 1 <= len(result.summary.bullets) <= 5


def test_empty_transcript() -> None:
    result = run_offline(Transcript(session_id="s", segments=[]))
    assert result.leads == [] and result.events == [] and result.summary.abstract


def test_segments_without_word_times_share_the_segment_span() -> None:
    segment = TranscriptSegment(
        index=0, speaker="Ann Lee", start_s=10.0, end_s=20.0, text="We need a new tool. My budget is $5,000."
    )
    result = run_offline(Transcript(session_id="s", segments=[segment]))
    (lead,) = result.leads
    budget_quote = next(e for e in lead.evidence if "$5,000" in e.quote)
    assert 10.0 < budget_quote.start_s < budget_quote.end_s == 20.0


@pytest.mark.parametrize(
    ("text", "emails"),
    [
        ("mail dana.w@acme.io please", ["dana.w@acme.io"]),
        ("it's ops dot team at acme dot co dot uk", ["ops.team@acme.co.uk"]),
        ("the agenda is at example.com/agenda", []),
        ("not an email: a@b", []),
    ],
)
def test_emails(text: str, emails: list[str]) -> None:
    assert find_emails(text) == emails


def test_phones_are_e164() -> None:
    assert find_phones("call (415) 555-0142 or +44 20 7946 0958") == ["+14155550142", "+442079460958"]
    assert find_phones("we have 200 drivers in 3 depots") == []
