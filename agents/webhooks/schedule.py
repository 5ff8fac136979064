"""When to try again, and what a receiver's answer means.

Attempts: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after each failure (±10 % jitter),
8 attempts over about a day. 2xx within the attempt timeout is success; anything else is a failure:
a redirect is not followed, 410 Gone disables the endpoint, 429/503 with ``Retry-After`` wait at least
that long.
"""

from __future__ import annotations

import enum
import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

RETRY_DELAYS_S: tuple[float, ...] = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS_S)
JITTER = 0.1
MAX_RETRY_AFTER_S = 24 * 3600.0
DISABLE_AFTER = timedelta(days=5)  # an endpoint failing this long is disabled and its owner told


class Outcome(enum.Enum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"  # a failure; try again per the schedule
    GONE = "gone"  # 410: the receiver asked us to stop; disable the endpoint


def classify(status_code: int) -> Outcome:
    if 200 <= status_code < 300:
        return Outcome.SUCCEEDED
    if status_code == 410:
        return Outcome.GONE
    return Outcome.RETRY


def retry_delay_s(attempts_done: int, rng: random.Random) -> float | None:
    """Seconds until the next attempt after ``attempts_done`` attempts; None when they are used up."""
    if attempts_done < 1 or attempts_done >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS_S[attempts_done - 1]
    return base * rng.uniform(1 - JITTER, 1 + JITTER)


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), capped at a day; None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER_S)
