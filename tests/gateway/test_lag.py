"""The lag meter of a live stream: reported lag, a worker gone quiet, warnings then the close."""

from __future__ import annotations

from ayka import bus
from gateway.listen.lag import REPORT_STALE_S, WARNING_EVERY_S, LagMeter, LagVerdict


def report(received_frames: int, lag_s: float | None) -> bus.TranscriptResult:
    return bus.TranscriptResult(
        session_id="s",
        is_final=False,
        start_s=0,
        end_s=0,
        transcript="",
        last_seq=received_frames - 1,
        lag_s=lag_s,
    )


def test_lag_is_published_audio_minus_what_the_worker_processed() -> None:
    meter = LagMeter(30.0, now=0.0)
    meter.note(report(100, 2.5), published_s=10.0, now=1.0)  # received 10 s, processed 7.5 s
    assert meter.processed_s == 7.5
    assert meter.lag_s(10.0, now=1.5) == 2.5
    meter.note(report(50, 0.0), published_s=10.0, now=2.0)  # a replayed final carries an older figure
    assert meter.processed_s == 7.5


def test_a_worker_that_goes_quiet_counts_everything_published_since() -> None:
    meter = LagMeter(30.0, now=0.0)
    meter.note(report(100, 0.0), published_s=10.0, now=1.0)
    assert meter.lag_s(50.0, now=1.0 + REPORT_STALE_S - 0.1) == 0.0  # the last report still stands
    assert meter.lag_s(50.0, now=1.0 + REPORT_STALE_S + 0.1) == 40.0


def test_warnings_repeat_at_most_every_few_seconds_and_precede_the_close() -> None:
    meter = LagMeter(30.0, now=0.0)
    meter.note(report(400, 35.0), published_s=40.0, now=1.0)
    assert meter.verdict(40.0, now=1.0) == (LagVerdict.WARN, 35.0)
    assert meter.verdict(40.0, now=2.0)[0] is LagVerdict.FINE  # warned a second ago
    assert meter.verdict(40.0, now=1.0 + WARNING_EVERY_S + 0.1)[0] is LagVerdict.WARN
    meter.note(report(700, 65.0), published_s=70.0, now=7.0)
    assert meter.verdict(70.0, now=7.0) == (LagVerdict.WARN_AND_CLOSE, 65.0)
    meter.note(report(700, 1.0), published_s=70.0, now=8.0)
    assert meter.verdict(70.0, now=8.0)[0] is LagVerdict.FINE


def test_an_old_worker_without_lag_s_is_taken_at_what_it_received() -> None:
    meter = LagMeter(30.0, now=0.0)
    meter.note(report(100, None), published_s=12.0, now=0.0)
    assert meter.lag_s(12.0, now=0.0) == 2.0


def test_a_resume_starts_from_a_clean_slate() -> None:
    meter = LagMeter(1.5, now=0.0)
    meter.note(report(400, 5.0), published_s=40.0, now=1.0)
    assert meter.verdict(40.0, now=1.0)[0] is LagVerdict.WARN_AND_CLOSE
    meter.caught_up_to(40.0, now=2.0)  # the client resumes on this gateway
    assert meter.verdict(40.0, now=2.0) == (LagVerdict.FINE, 0.0)
