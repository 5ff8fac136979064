"""The CrewAI engine with a scripted LLM (a BaseLLM subclass): prompts, structured output, fallbacks."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

import agents.crew
from agents.crew import EMAIL_AGENT, EVENT_AGENT, LEAD_AGENT, SUMMARY_AGENT, CrewEngine
from agents.engine import run_engine
from agents.evaluation import load_fixture
from agents.schema import Engine, Transcript
from ayka.settings import Settings
from tests.agents.scripted import good, scripted

FIXTURES = Path(__file__).parent / "fixtures"

_connections: list[Any] = []
_audit_armed = threading.Event()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" and _audit_armed.is_set():
        _connections.append(args[1])


sys.addaudithook(_audit)  # audit hooks cannot be removed; it only records while armed


@pytest.fixture(scope="module")
def transcript() -> Transcript:
    return load_fixture(FIXTURES / "saas_demo.json").transcript


@pytest.fixture
def no_network() -> Iterator[list[Any]]:
    _connections.clear()
    _audit_armed.set()
    yield _connections
    _audit_armed.clear()


def test_structured_output_from_every_agent(transcript: Transcript, no_network: list[Any]) -> None:
    llm = scripted(good)
    result = CrewEngine(llm, timeout_s=30).run(transcript)
    assert result.fallback_reasons == []
    assert {result.leads_engine, result.events_engine, result.summary_engine, result.drafts_engine} == {
        Engine.CREWAI
    }
    (lead,) = result.leads
    assert lead.score == 88 and lead.email == "dana.whitfield@acmelogistics.com"
    # Evidence is grounded: the invented quote is dropped, speaker and times come from the transcript.
    (evidence,) = lead.evidence
    assert evidence.speaker == "Dana Whitfield" and evidence.end_s > evidence.start_s > 0
    assert result.events[0].starts_at == "2027-03-12T09:00:00-08:00"
    assert result.summary.action_items[0].owner == "Maya Chen"
    assert result.drafts[0].subject == "Your fleet dashboard"
    # Every prompt carries the transcript; the email prompt also carries the leads.
    assert len(llm.prompts) == 4
    for prompt in llm.prompts:
        assert "Dana Whitfield: Email me at dana.whitfield@acmelogistics.com" in prompt
        assert "2026-11-20T15:00:00+00:00" in prompt
    assert any("Acme Logistics" in p and EMAIL_AGENT in p for p in llm.prompts)
    assert no_network == []  # telemetry and tracing are off: not one outbound connection


def test_malformed_output_is_retried_then_falls_back_with_a_reason(
    transcript: Transcript, no_network: list[Any]
) -> None:
    def broken_leads(role: str, prompt: str) -> str:
        return "Sure! Here are the leads: Dana, probably." if role == LEAD_AGENT else good(role, prompt)

    llm = scripted(broken_leads)
    result = CrewEngine(llm, timeout_s=30).run(transcript)
    assert result.leads_engine is Engine.OFFLINE
    assert [lead.person for lead in result.leads] == ["Dana Whitfield"]  # from the offline extractor
    assert result.events_engine is Engine.CREWAI and result.summary_engine is Engine.CREWAI
    (reason,) = result.fallback_reasons
    assert reason.startswith("leads: malformed output twice")
    lead_prompts = [p for p in llm.prompts if LEAD_AGENT in p]
    assert len(lead_prompts) >= 2  # retried once
    assert no_network == []


def test_a_malformed_first_answer_is_retried(transcript: Transcript) -> None:
    answered: list[str] = []

    def flaky(role: str, prompt: str) -> str:
        if role == SUMMARY_AGENT and not answered:
            answered.append(role)
            return '{"bullets": []}'  # partial: no abstract
        return good(role, prompt)

    result = CrewEngine(scripted(flaky), timeout_s=30).run(transcript)
    assert result.summary_engine is Engine.CREWAI
    assert result.summary.abstract == "Dana wants fleet tracking."
    assert result.fallback_reasons == []


def test_partial_leads_and_wrong_draft_count_fall_back(transcript: Transcript) -> None:
    def partial(role: str, prompt: str) -> str:
        if role == LEAD_AGENT:
            return json.dumps({"leads": [{"intent": "something", "score": 10}]})
        if role == EMAIL_AGENT:
            return json.dumps({"drafts": []})
        return good(role, prompt)

    result = CrewEngine(scripted(partial), timeout_s=30).run(transcript)
    assert result.leads_engine is Engine.OFFLINE and result.drafts_engine is Engine.OFFLINE
    assert len(result.drafts) == len(result.leads) == 1
    assert any("names no person" in r for r in result.fallback_reasons)
    assert any("0 email drafts for 1 leads" in r for r in result.fallback_reasons)


def test_a_hanging_llm_times_out_into_the_offline_engine(transcript: Transcript) -> None:
    release = threading.Event()

    def hang(role: str, prompt: str) -> str:
        if role == EVENT_AGENT:
            release.wait(10)
        return good(role, prompt)

    started = time.monotonic()
    result = CrewEngine(scripted(hang), timeout_s=0.5).run(transcript)
    release.set()
    assert time.monotonic() - started < 8
    assert result.events_engine is Engine.OFFLINE and result.leads_engine is Engine.CREWAI
    assert result.events[0].name == "Brightwave Customer Summit"
    assert any(r.startswith("events: the LLM did not answer within 0.5 s") for r in result.fallback_reasons)


def test_settings_without_an_llm_use_the_offline_engine(
    transcript: Transcript, no_network: list[Any]
) -> None:
    result = run_engine(Settings(_env_file=None), transcript)  # type: ignore[call-arg]
    assert result.leads_engine is Engine.OFFLINE and result.fallback_reasons == []
    assert no_network == []


def test_the_quiet_environment_is_set() -> None:
    import os

    for name, value in agents.crew.QUIET_ENV.items():
        assert os.environ[name] == value


class _FakeOpenAI(BaseHTTPRequestHandler):
    """An OpenAI-compatible /v1/chat/completions that answers like the scripted LLM."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(body)
        prompt = "\n".join(str(m.get("content", "")) for m in body["messages"])
        role = next((r for r in (LEAD_AGENT, EVENT_AGENT, EMAIL_AGENT, SUMMARY_AGENT) if r in prompt), "")
        reply = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": good(role, prompt)},
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_an_openai_compatible_server_from_settings_is_the_only_connection(
    transcript: Transcript, no_network: list[Any]
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        settings = Settings(
            llm_model="qwen2.5-7b", llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout_s=20
        )
        result = run_engine(settings, transcript)
    finally:
        server.shutdown()
        server.server_close()
    assert result.fallback_reasons == []
    assert result.leads_engine is Engine.CREWAI and result.leads[0].person == "Dana Whitfield"
    assert _FakeOpenAI.requests and _FakeOpenAI.requests[0]["model"] == "qwen2.5-7b"
    assert no_network and all(address[:2] == ("127.0.0.1", port) for address in no_network)
