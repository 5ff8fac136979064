from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from agents.webhooks.schedule import (
    MAX_ATTEMPTS,
    RETRY_DELAYS_S,
    Outcome,
    classify,
    retry_after_s,
    retry_delay_s,
)


def test_the_schedule() -> None:
    assert RETRY_DELAYS_S == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert MAX_ATTEMPTS == 8
    rng = random.Random(7)
    for attempts_done, base in enumerate(RETRY_DELAYS_S, start=1):
        delay = retry_delay_s(attempts_done, rng)
        assert delay is not None and 0.9 * base <= delay <= 1.1 * base
    assert retry_delay_s(8, rng) is None
    delays = {retry_delay_s(1, rng) for _ in range(20)}
    assert len(delays) > 1  # jitter


def test_classify() -> None:
    assert classify(200) is Outcome.SUCCEEDED and classify(204) is Outcome.SUCCEEDED
    assert classify(301) is Outcome.RETRY and classify(500) is Outcome.RETRY
    assert classify(410) is Outcome.GONE


def test_retry_after() -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert retry_after_s("120", now) == 120
    assert retry_after_s(format_datetime(now + timedelta(minutes=10), usegmt=True), now) == 600
    assert retry_after_s("999999999", now) == 24 * 3600
    assert retry_after_s("soon", now) is None and retry_after_s(None, now) is None
