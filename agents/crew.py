"""The CrewAI engine: a Lead Generation, an Event Discovery, an Email and a Summary agent.

Each part runs as its own one-task crew with a pydantic output, so one bad answer costs only its part:
malformed or partial output is retried once, then that part comes from the offline extractor and the
reason is recorded; a part that runs past ``llm_timeout_s`` falls back at once. CrewAI is imported
lazily (it takes seconds) and only after telemetry and tracing are switched off.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from agents.offline import draft_emails, run_offline
from agents.offline.text import Sentence, sentences_of
from agents.schema import (
    AgentsResult,
    EmailDraft,
    EmailDraftList,
    Engine,
    Event,
    EventList,
    Evidence,
    Lead,
    LeadList,
    Summary,
    Transcript,
)
from ayka.settings import Settings

if TYPE_CHECKING:
    from crewai.llms.base_llm import BaseLLM

# CrewAI and OpenTelemetry read these when imported: no telemetry, no traces, nothing leaves the machine
# except the calls to the configured LLM.
QUIET_ENV = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "OTEL_SDK_DISABLED": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "CREWAI_DISABLE_TRACKING": "true",
}
for _name, _value in QUIET_ENV.items():
    os.environ[_name] = _value

Model = TypeVar("Model", bound=BaseModel)

LEAD_AGENT = "Lead Generation agent"
EVENT_AGENT = "Event Discovery agent"
EMAIL_AGENT = "Email agent"
SUMMARY_AGENT = "Summary agent"

_PREAMBLE = (
    "Below is a speaker-labeled call transcript, one line per segment: [start_s-end_s] Speaker: text.\n"
    "The call was recorded at {recorded_at}. Use only what is said; never invent facts.\n"
    "Evidence quotes must be copied exactly from the transcript, with the speaker and the times of the "
    "line they come from.\n\nTRANSCRIPT:\n{transcript}\n\n"
)
_LEADS_TASK = (
    _PREAMBLE + "List every sales lead: a person or company on the call (or named in it) showing buying "
    "interest. For each give person, company, role, email, phone (E.164), intent, budget, timeline, "
    "next_step, a score from 0 to 100 with score_reasons, and evidence. Do not list the seller. "
    "Return an empty list when there are no leads."
)
_EVENTS_TASK = (
    _PREAMBLE + "List every event mentioned (conferences, webinars, summits, meetups, launches): name, "
    "starts_at and ends_at in ISO 8601 with the UTC offset when the time zone is known, timezone as an "
    "IANA name, location, url, evidence. Return an empty list when none are mentioned."
)
_SUMMARY_TASK = (
    _PREAMBLE + "Summarize the call: a short abstract (2-3 sentences), up to 6 bullet points, and the "
    "action items with the owner (a speaker's name) when one is named."
)
_EMAIL_TASK = (
    _PREAMBLE + "Write one short follow-up email per lead, in the same order as these leads (JSON):\n"
    "{leads}\nEach email has a subject and a plain-text body, from the seller on the call."
)


class AgentOutputError(ValueError):
    """The LLM's answer did not parse into the part's schema, or was incomplete."""


def llm_configured(settings: Settings) -> bool:
    return bool(settings.llm_model or settings.llm_base_url)


def build_llm(settings: Settings) -> BaseLLM:
    """The LLM the settings name: a LiteLLM-style model string, or an OpenAI-compatible server."""
    from crewai import LLM

    model = settings.llm_model or "default"
    if settings.llm_base_url and "/" not in model:
        model = f"openai/{model}"  # an OpenAI-compatible server (vLLM, Ollama's /v1)
    llm: BaseLLM = LLM(
        model=model,
        base_url=settings.llm_base_url or None,
        api_key=settings.llm_api_key or ("none" if settings.llm_base_url else None),
        timeout=settings.llm_timeout_s,
        temperature=0,
    )
    return llm


class CrewEngine:
    """Runs the crews over one transcript; falls back per part to the offline extractor."""

    def __init__(self, llm: BaseLLM, timeout_s: float, retries: int = 1) -> None:
        self.llm = llm
        self.timeout_s = timeout_s
        self.retries = retries

    def run(self, transcript: Transcript) -> AgentsResult:
        offline = run_offline(transcript)
        sentences = sentences_of(transcript)
        reasons: list[str] = []
        inputs = {
            "transcript": transcript.as_prompt_text(),
            "recorded_at": transcript.recorded_at.isoformat()
            if transcript.recorded_at
            else "an unknown time",
        }

        lead_list = self._part("leads", LEAD_AGENT, _LEADS_TASK, LeadList, inputs, reasons, _check_leads)
        leads = [_ground_lead(lead, sentences) for lead in lead_list.leads] if lead_list else offline.leads
        leads_engine = Engine.CREWAI if lead_list else Engine.OFFLINE

        event_list = self._part("events", EVENT_AGENT, _EVENTS_TASK, EventList, inputs, reasons, None)
        base = transcript.recorded_at
        events = (
            [_ground_event(e, sentences, base) for e in event_list.events] if event_list else offline.events
        )

        summary = self._part(
            "summary", SUMMARY_AGENT, _SUMMARY_TASK, Summary, inputs, reasons, _check_summary
        )

        drafts: list[EmailDraft] = []
        drafts_engine = Engine.CREWAI
        if leads:
            leads_json = json.dumps(
                [lead.model_dump(exclude={"evidence", "score_reasons"}) for lead in leads]
            )
            draft_list = self._part(
                "email drafts",
                EMAIL_AGENT,
                _EMAIL_TASK,
                EmailDraftList,
                {**inputs, "leads": leads_json},
                reasons,
                lambda out: _check_drafts(out, len(leads)),
            )
            if draft_list:
                drafts = draft_list.drafts
            else:
                drafts, drafts_engine = draft_emails(transcript, leads), Engine.OFFLINE

        return AgentsResult(
            summary=summary or offline.summary,
            summary_engine=Engine.CREWAI if summary else Engine.OFFLINE,
            leads=leads,
            leads_engine=leads_engine,
            events=events,
            events_engine=Engine.CREWAI if event_list else Engine.OFFLINE,
            drafts=drafts,
            drafts_engine=drafts_engine,
            fallback_reasons=reasons,
        )

    def _part(
        self,
        part: str,
        role: str,
        template: str,
        model: type[Model],
        inputs: dict[str, str],
        reasons: list[str],
        check: Callable[[Model], None] | None,
    ) -> Model | None:
        """One crew for one part: ``None`` (and a reason) when it must fall back."""
        errors: list[str] = []
        for _attempt in range(1 + self.retries):
            pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"crew-{part}")
            future = pool.submit(self._kickoff, role, template, model, inputs)
            try:
                output = future.result(timeout=self.timeout_s)
                if check is not None:
                    check(output)
                return output
            except concurrent.futures.TimeoutError:
                # The thread cannot be stopped; the LLM client's own timeout ends it.
                reasons.append(f"{part}: the LLM did not answer within {self.timeout_s:g} s; used offline")
                return None
            except (AgentOutputError, ValidationError, ValueError) as exc:
                errors.append(_one_line(exc))
            except Exception as exc:  # CrewAI's converter and providers raise their own types
                errors.append(f"{type(exc).__name__}: {_one_line(exc)}")
            finally:
                pool.shutdown(wait=False)
        reasons.append(f"{part}: malformed output twice ({'; '.join(errors)}); used offline")
        return None

    def _kickoff(self, role: str, template: str, model: type[Model], inputs: dict[str, str]) -> Model:
        from crewai import Agent, Crew, Process, Task
        from crewai.crews.crew_output import CrewOutput

        agent = Agent(
            role=role,
            goal=f"Extract accurate, grounded {model.__name__} data from sales call transcripts.",
            backstory="You work for a sales team and only report what the call transcript supports.",
            llm=self.llm,
            allow_delegation=False,
            max_iter=1,
            verbose=False,
        )
        task = Task(
            description=template,
            expected_output=f"A JSON object matching the {model.__name__} schema.",
            agent=agent,
            output_pydantic=model,
        )
        crew = Crew(agents=[agent], tasks=[task], process=Process.sequential, verbose=False)
        result = crew.kickoff(inputs=inputs)
        if not isinstance(result, CrewOutput):
            raise AgentOutputError(f"unexpected crew output {type(result).__name__}")
        if isinstance(result.pydantic, model):
            return result.pydantic
        return model.model_validate_json(_strip_fences(result.raw))


# ---------------------------------------------------------------- checks and grounding


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def _strip_fences(raw: str) -> str:
    match = re.search(r"```(?:json)?\s*(.*?)```", raw, re.DOTALL)
    return match.group(1) if match else raw.strip()


def _check_leads(output: LeadList) -> None:
    for lead in output.leads:
        if not (lead.person or lead.company or lead.email or lead.phone):
            raise AgentOutputError("a lead names no person, company, email or phone")


def _check_summary(output: Summary) -> None:
    if not output.abstract.strip():
        raise AgentOutputError("the summary has no abstract")


def _check_drafts(output: EmailDraftList, leads: int) -> None:
    if len(output.drafts) != leads:
        raise AgentOutputError(f"{len(output.drafts)} email drafts for {leads} leads")
    if any(not d.subject.strip() or not d.body.strip() for d in output.drafts):
        raise AgentOutputError("an email draft has no subject or body")


def _ground(evidence: list[Evidence], sentences: list[Sentence]) -> list[Evidence]:
    """Keep quotes that were said; take speaker and times from the transcript, not from the LLM."""
    grounded: list[Evidence] = []
    for item in evidence:
        needle = " ".join(item.quote.split()).casefold()
        if not needle:
            continue
        said = next(
            (s for s in sentences if needle in s.text.casefold() or s.text.casefold() in needle), None
        )
        if said is not None:
            grounded.append(
                Evidence(quote=item.quote, speaker=said.speaker, start_s=said.start_s, end_s=said.end_s)
            )
    return grounded


def _ground_lead(lead: Lead, sentences: list[Sentence]) -> Lead:
    return lead.model_copy(update={"evidence": _ground(lead.evidence, sentences)})


def _iso_or_none(value: str | None, base: datetime | None) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        import dateparser

        settings: dict[str, Any] = {"PREFER_DATES_FROM": "future"}
        if base is not None:
            settings["RELATIVE_BASE"] = base.replace(tzinfo=None)
        parsed = dateparser.parse(value, languages=["en"], settings=settings)  # type: ignore[arg-type]
        return parsed.isoformat() if parsed else None


def _ground_event(event: Event, sentences: list[Sentence], base: datetime | None) -> Event:
    return event.model_copy(
        update={
            "starts_at": _iso_or_none(event.starts_at, base),
            "ends_at": _iso_or_none(event.ends_at, base),
            "evidence": _ground(event.evidence, sentences),
        }
    )
