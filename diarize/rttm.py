"""RTTM (the NIST diarization exchange format): one ``SPEAKER`` line per turn."""

from __future__ import annotations

from collections.abc import Iterable

from diarize.types import Turn


def to_rttm(turns: Iterable[Turn], file_id: str, names: dict[int, str] | None = None) -> str:
    """RTTM text; speakers are named ``names[label]`` or ``speaker<label>``. Spaces in names and
    the file id become underscores (RTTM fields are space-separated)."""
    lines = []
    for turn in sorted(turns, key=lambda t: (t.start_s, t.speaker)):
        name = (names or {}).get(turn.speaker) or f"speaker{turn.speaker}"
        lines.append(
            f"SPEAKER {_token(file_id)} 1 {turn.start_s:.3f} {turn.duration_s:.3f} "
            f"<NA> <NA> {_token(name)} <NA> <NA>"
        )
    return "".join(line + "\n" for line in lines)


def parse_rttm(text: str) -> dict[str, list[tuple[float, float, str]]]:
    """``file id -> [(start_s, end_s, speaker name)]`` from RTTM text (non-SPEAKER lines ignored)."""
    out: dict[str, list[tuple[float, float, str]]] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 8 or fields[0] != "SPEAKER":
            continue
        start_s = float(fields[3])
        out.setdefault(fields[1], []).append((start_s, start_s + float(fields[4]), fields[7]))
    return out


def _token(text: str) -> str:
    return "_".join(text.split()) or "_"
