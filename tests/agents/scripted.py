"""A scripted LLM for the CrewAI engine: a BaseLLM subclass answering from a Python function."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from crewai.llms.base_llm import BaseLLM
from pydantic import Field

from agents.crew import EMAIL_AGENT, EVENT_AGENT, LEAD_AGENT, SUMMARY_AGENT

Responder = Callable[[str, str], str]  # (agent role, prompt) -> reply


class ScriptedLLM(BaseLLM):
    """Answers from a Python function instead of a provider; records every prompt."""

    responder: Any = None
    prompts: list[str] = Field(default_factory=list)
    calls: int = 0

    def call(  # type: ignore[override]
        self,
        messages: Any,
        tools: Any = None,
        callbacks: Any = None,
        available_functions: Any = None,
        from_task: Any = None,
        from_agent: Any = None,
        response_model: Any = None,
    ) -> str:
        text = (
            messages if isinstance(messages, str) else "\n".join(str(m.get("content", "")) for m in messages)
        )
        self.prompts.append(text)
        self.calls += 1
        role = next((r for r in (LEAD_AGENT, EVENT_AGENT, EMAIL_AGENT, SUMMARY_AGENT) if r in text), "")
        reply: str = self.responder(role, text)
        return reply

    def supports_function_calling(self) -> bool:
        return False


def scripted(responder: Responder) -> ScriptedLLM:
    return ScriptedLLM(model="scripted", responder=responder, prompts=[])


GOOD = {
    LEAD_AGENT: {
        "leads": [
            {
                "person": "Dana Whitfield",
                "company": "Acme Logistics",
                "role": "VP of Operations",
                "email": "dana.whitfield@acmelogistics.com",
                "phone": "+14155550142",
                "intent": "fleet tracking for 200 drivers",
                "budget": "$40,000",
                "timeline": "end of Q3",
                "next_step": "demo next week",
                "score": 88,
                "score_reasons": ["budget", "timeline", "decision maker"],
                "evidence": [
                    {"quote": "We set aside $40,000 for this year", "speaker": "x", "start_s": 0, "end_s": 0},
                    {
                        "quote": "a sentence nobody said",
                        "speaker": "Dana Whitfield",
                        "start_s": 1,
                        "end_s": 2,
                    },
                ],
            }
        ]
    },
    EVENT_AGENT: {
        "events": [
            {
                "name": "Brightwave Customer Summit",
                "starts_at": "2027-03-12T09:00:00-08:00",
                "timezone": "America/Los_Angeles",
                "location": "Moscone Center",
                "url": "https://brightwave.io/summit",
            }
        ]
    },
    SUMMARY_AGENT: {
        "abstract": "Dana wants fleet tracking.",
        "bullets": ["200 drivers"],
        "action_items": [{"text": "Send proposal", "owner": "Maya Chen"}],
    },
    EMAIL_AGENT: {"drafts": [{"subject": "Your fleet dashboard", "body": "Hi Dana, ..."}]},
}


def good(role: str, prompt: str) -> str:
    return json.dumps(GOOD[role])
