"""Transcript and diarization as text: TXT, SRT, WebVTT and RTTM."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.api.schemas.sessions import SegmentPublic, Turn


def _label(segment: SegmentPublic) -> str:
    return f"{segment.speaker_name}: " if segment.speaker_name else ""


def _clock(seconds: float, separator: str) -> str:
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_txt(segments: Sequence[SegmentPublic]) -> str:
    return "".join(f"{_label(s)}{s.text.strip()}\n" for s in segments)


def to_srt(segments: Sequence[SegmentPublic]) -> str:
    cues = [
        f"{n}\n{_clock(s.start_s, ',')} --> {_clock(s.end_s, ',')}\n{_label(s)}{s.text.strip()}\n"
        for n, s in enumerate(segments, start=1)
    ]
    return "\n".join(cues)


def _vtt_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "--&gt;")


def to_vtt(segments: Sequence[SegmentPublic]) -> str:
    cues = []
    for s in segments:
        voice = f"<v {_vtt_text(s.speaker_name)}>" if s.speaker_name else ""
        cues.append(
            f"{_clock(s.start_s, '.')} --> {_clock(s.end_s, '.')}\n{voice}{_vtt_text(s.text.strip())}\n"
        )
    return "WEBVTT\n\n" + "\n".join(cues)


def to_rttm(session_id: str, turns: Sequence[Turn]) -> str:
    """NIST RTTM: ``SPEAKER <file> 1 <onset> <duration> <NA> <NA> <speaker> <NA> <NA>``."""
    return "".join(
        f"SPEAKER {session_id} 1 {t.start_s:.3f} {max(0.0, t.end_s - t.start_s):.3f} <NA> <NA> "
        f"speaker_{t.speaker} <NA> <NA>\n"
        for t in turns
    )
