"""``bench/load.py`` at a small N against the real ``ayka up``: concurrent real-time streams all succeed and
every one gets interim and final words. The figures themselves (latency percentiles at larger N) are the
benchmark's to print, not a test's to time."""

from __future__ import annotations

import math

import pytest

from bench.load import run
from tests.reliability.conftest import Up

pytestmark = pytest.mark.timeout(180)

STREAMS = 2
SECONDS = 12.0


async def test_concurrent_real_time_streams_all_finish_with_words(up: Up) -> None:
    figures = await run(up.base_url, up.client.api_key, STREAMS, SECONDS)

    assert not figures.failed, [r.error for r in figures.failed]
    assert len(figures.ok) == STREAMS
    for stream in figures.ok:
        assert stream.words >= 15, stream  # the clip's first 12 s hold ~30 words
        assert stream.first_interim_s is not None, "no interim result before the finals"
    fin = figures.finalization_s
    assert fin and all(math.isfinite(x) for x in fin)
    assert figures.worker_procs == 2, "the load step saw the ASR workers through /readyz"
    assert "failed   0" in figures.line()
