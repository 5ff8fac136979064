"""Prometheus metrics of an ASR worker process."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ACTIVE = Gauge("ayka_asr_active_sessions", "Sessions this ASR worker serves now")
LAG = Gauge("ayka_asr_session_lag_seconds", "Largest lag (audio received minus audio processed) of a session")
UPDATE = Histogram(
    "ayka_asr_update_duration_seconds",
    "Duration of one model call (one or several sessions' updates)",
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0),
)
FLOOR = Gauge(
    "ayka_asr_update_floor_seconds",
    "Shortest update interval of a lone session now (calibrated, raised to what the live calls sustain)",
)
RTF = Gauge("ayka_asr_realtime_factor", "Processing time divided by audio time, over the last minute")
REFUSED = Counter("ayka_asr_refused_sessions_total", "Sessions refused for lack of capacity")
PREVIEW = Counter("ayka_asr_preview_calls_total", "Model calls that looked ahead for interims (previews)")
WIDE = Counter("ayka_asr_wide_calls_total", "Model calls that ran alone on every core (a lone session)")
