"""How far transcription trails the audio a stream has published, and what the stream does about it."""

from __future__ import annotations

import enum
import time

from ayka import bus

# The worker reports its lag with every result and once a second; a report older than this means the
# worker went quiet (stuck or gone), and everything published since its last report counts as lag.
REPORT_STALE_S = 5.0
# Lag that closes the stream, as a multiple of the lag that warns: buffered audio stays bounded.
MAX_LAG_FACTOR = 2.0
WARNING_EVERY_S = 5.0
FRAME_S = 0.1


class LagVerdict(enum.Enum):
    FINE = "fine"
    WARN = "warn"  # send a Warning (asr_lagging)
    WARN_AND_CLOSE = "warn_and_close"  # a last Warning, then close 4004 keeping the session


class LagMeter:
    """Audio published to the bus that the ASR worker had not processed at its last report (what waits in
    JetStream, in the worker's queue and in its engine), in seconds of the session clock."""

    def __init__(self, warn_s: float, *, now: float | None = None) -> None:
        self.warn_s = warn_s
        self.max_s = warn_s * MAX_LAG_FACTOR
        self.processed_s = 0.0  # how far the worker has processed the session's audio
        self._reported_lag_s = 0.0
        self._reported_at = time.monotonic() if now is None else now
        self._last_warning: float | None = None

    def note(self, result: bus.TranscriptResult, published_s: float, *, now: float | None = None) -> None:
        """A result or progress report from the worker; ``published_s``: audio this stream has published."""
        received_s = (result.last_seq + 1) * FRAME_S
        # A worker that predates lag_s only says what it has received: the best estimate there is.
        processed_s = received_s - (result.lag_s or 0.0)
        self.processed_s = max(self.processed_s, processed_s)  # replayed finals carry older figures
        self._reported_at = time.monotonic() if now is None else now
        self._reported_lag_s = max(0.0, published_s - self.processed_s)

    def caught_up_to(self, published_s: float, *, now: float | None = None) -> None:
        """A resume: assume the worker is at ``published_s`` until its next report says otherwise (an
        earlier connection's lag, which may have closed it, no longer stands)."""
        self.processed_s = max(self.processed_s, published_s)
        self._reported_lag_s = 0.0
        self._reported_at = time.monotonic() if now is None else now

    def lag_s(self, published_s: float, *, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        if now - self._reported_at > REPORT_STALE_S:
            return max(0.0, published_s - self.processed_s)
        return self._reported_lag_s

    def verdict(self, published_s: float, *, now: float | None = None) -> tuple[LagVerdict, float]:
        """What to do now, and the lag it is based on. Warnings repeat at most every ``WARNING_EVERY_S``;
        a close is always preceded by a warning."""
        now = time.monotonic() if now is None else now
        lag_s = self.lag_s(published_s, now=now)
        if lag_s <= self.warn_s:
            return LagVerdict.FINE, lag_s
        if lag_s > self.max_s:
            self._last_warning = now
            return LagVerdict.WARN_AND_CLOSE, lag_s
        if self._last_warning is None or now - self._last_warning > WARNING_EVERY_S:
            self._last_warning = now
            return LagVerdict.WARN, lag_s
        return LagVerdict.FINE, lag_s
