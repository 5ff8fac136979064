"""Live leads: while a call runs (``StreamOptions.live_leads``), leads follow the finals.

The offline extractor re-reads the finals so far after each one and the session's unfinalized lead
rows are replaced when what it finds changes. The post-call run replaces them with finalized leads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from agents.offline.leads import extract_leads
from agents.offline.text import sentences_of
from agents.schema import Lead, Transcript, TranscriptSegment, TranscriptWord
from ayka import bus

IDLE_FORGET_S = 3600.0


def _speaker(result: bus.TranscriptResult) -> str:
    labels = [w.speaker for w in result.words if w.speaker is not None]
    if not labels:
        return "Speaker"
    label = max(set(labels), key=labels.count)
    return f"Speaker {label + 1}"


@dataclass
class LiveSession:
    session_id: str
    finals: dict[int, bus.TranscriptResult] = field(default_factory=dict)
    last_leads: list[Lead] = field(default_factory=list)
    touched: float = field(default_factory=time.monotonic)

    def add(self, result: bus.TranscriptResult) -> list[Lead] | None:
        """The leads after this final, or None when they did not change."""
        self.finals[result.index] = result
        self.touched = time.monotonic()
        transcript = Transcript(
            session_id=self.session_id,
            segments=[
                TranscriptSegment(
                    index=r.index,
                    speaker=_speaker(r),
                    start_s=r.start_s,
                    end_s=r.end_s,
                    text=r.transcript,
                    words=[
                        TranscriptWord(word=w.punctuated_word, start_s=w.start_s, end_s=w.end_s)
                        for w in r.words
                    ],
                )
                for r in sorted(self.finals.values(), key=lambda r: r.index)
                if r.transcript.strip()
            ],
        )
        found = extract_leads(sentences_of(transcript))
        if [lead.model_dump() for lead in found] == [lead.model_dump() for lead in self.last_leads]:
            return None
        self.last_leads = found
        return found


class LiveLeads:
    """Per-session state for the sessions that asked for live leads."""

    def __init__(self) -> None:
        self.sessions: dict[str, LiveSession] = {}

    def add(self, result: bus.TranscriptResult) -> list[Lead] | None:
        session = self.sessions.setdefault(result.session_id, LiveSession(result.session_id))
        return session.add(result)

    def end(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)

    def forget_idle(self) -> None:
        now = time.monotonic()
        for session_id, session in list(self.sessions.items()):
            if now - session.touched > IDLE_FORGET_S:
                del self.sessions[session_id]
