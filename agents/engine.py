"""Which engine runs: CrewAI when an LLM is configured (or given), the offline extractor otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.offline import run_offline
from agents.schema import AgentsResult, Transcript
from ayka.settings import Settings

if TYPE_CHECKING:
    from crewai.llms.base_llm import BaseLLM


def run_engine(settings: Settings, transcript: Transcript, llm: BaseLLM | None = None) -> AgentsResult:
    """Blocking (seconds to minutes with an LLM): call it in a thread from async code."""
    from agents.crew import CrewEngine, build_llm, llm_configured

    if llm is None and not llm_configured(settings):
        return run_offline(transcript)
    if llm is None:
        try:
            llm = build_llm(settings)
        except Exception as exc:  # a bad model string or a missing provider package
            result = run_offline(transcript)
            result.fallback_reasons.append(
                f"LLM could not be set up ({type(exc).__name__}: {exc}); used offline"
            )
            return result
    return CrewEngine(llm, timeout_s=settings.llm_timeout_s).run(transcript)
