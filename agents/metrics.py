"""Prometheus metrics of the agents and webhooks workers (deploy/monitoring/alerts.yml reads them)."""

from __future__ import annotations

from prometheus_client import Counter

# result: success | fallback (the LLM failed; the offline extractor answered) | failure (nothing stored).
# One increment per step (leads, events, summary, email) of a session's run.
AGENT_RUNS = Counter(
    "ayka_agent_runs_total", "Agent steps run after a call, by step and result", ["step", "result"]
)
# result: success (2xx) | failure (anything else: refused target, timeout, non-2xx). One per attempt.
WEBHOOK_DELIVERIES = Counter(
    "ayka_webhook_deliveries_total", "Webhook delivery attempts by result", ["result"]
)
# result: sent | failed | device_not_registered (token removed) | not_configured (AYKA_EXPO_PUSH_URL
# empty: what would have been sent). One per push token a notification was meant for.
PUSH_NOTIFICATIONS = Counter(
    "ayka_push_notifications_total", "Push notifications to phones (Expo), by result", ["result"]
)
