"""Precision and recall of the offline extractor, per field, on the labeled fixture transcripts.

Run: ``.venv/bin/python bench/agents.py [FIXTURE_DIR]`` (default ``tests/agents/fixtures``). Fixtures named
``heldout_*`` were written after the extractor was tuned on the others and are also scored on their own.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.evaluation import Fixture, Scores, fixtures_in, score_fixture  # noqa: E402
from agents.offline import run_offline  # noqa: E402


def table(title: str, fixtures: list[Fixture]) -> None:
    scores = Scores()
    started = time.perf_counter()
    for fixture in fixtures:
        result = run_offline(fixture.transcript)
        score_fixture(scores, fixture, result.leads, result.events)
    each_ms = (time.perf_counter() - started) * 1000 / max(len(fixtures), 1)
    print(f"\n{title}: {len(fixtures)} transcripts, {each_ms:.1f} ms each")
    print(f"{'field':<18} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}")
    for name, score in sorted(scores.fields.items()):
        figures = f"{score.precision:>9.2f} {score.recall:>7.2f} {score.tp:>4} {score.fp:>4} {score.fn:>4}"
        print(f"{name:<18} {figures}")


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "agents" / "fixtures"
    fixtures = fixtures_in(folder)
    run_offline(fixtures[0].transcript)  # warm up dateparser's caches
    table("offline extractor, all fixtures", fixtures)
    table("held-out fixtures only", [f for f in fixtures if f.name.startswith("heldout_")])


if __name__ == "__main__":
    main()
