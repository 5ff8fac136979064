from __future__ import annotations

from diarize.rttm import parse_rttm, to_rttm
from diarize.types import Turn


def test_round_trip_with_names() -> None:
    turns = [Turn(1.5, 2.25, 1), Turn(0.0, 1.0, 0)]
    text = to_rttm(turns, "ses 1", names={1: "Ada Lovelace"})
    assert text.splitlines() == [
        "SPEAKER ses_1 1 0.000 1.000 <NA> <NA> speaker0 <NA> <NA>",
        "SPEAKER ses_1 1 1.500 0.750 <NA> <NA> Ada_Lovelace <NA> <NA>",
    ]
    assert parse_rttm(text) == {"ses_1": [(0.0, 1.0, "speaker0"), (1.5, 2.25, "Ada_Lovelace")]}


def test_parse_ignores_other_lines() -> None:
    assert parse_rttm("SPKR-INFO x 1 <NA> <NA> <NA> unknown a <NA> <NA>\n\n") == {}
