"""Push notifications to the owner's phones through Expo's push service when a lead is finalized.

Sent after the lead's transaction commits, best effort: a push that fails is logged and counted, never
retried, and never fails the run (the lead and its in-app notification are already stored). With
``AYKA_EXPO_PUSH_URL`` empty nothing is sent; an INFO line records what would have been
(``ayka_push_notifications_total{result="not_configured"}`` counts it). Expo answers one ticket per
message; ``DeviceNotRegistered`` (the app was uninstalled, or the token is not Expo's) deletes that
token.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from agents.metrics import PUSH_NOTIFICATIONS
from agents.store import lead_notice
from ayka.settings import Settings
from persistence.db import Pool
from persistence.repositories import push_tokens

log = logging.getLogger("ayka.agents.push")

PUSH_TIMEOUT_S = 10.0
EXPO_BATCH = 100  # Expo accepts at most 100 messages per request
LEAD_FINALIZED = "lead.finalized"


@dataclass
class PushReport:
    """What one notification's push did, per token (for logs and tests)."""

    configured: bool
    tokens: int = 0
    sent: int = 0
    failed: int = 0
    removed: list[str] = field(default_factory=list)  # tokens deleted after DeviceNotRegistered


def lead_messages(tokens: list[str], payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Expo push messages (one per token) for a ``lead.finalized`` payload; the app opens the Leads tab
    on ``data.event``."""
    notice = lead_notice(payload)
    data = {"event": LEAD_FINALIZED, "lead_id": payload["lead_id"], "session_id": payload["session_id"]}
    return [
        {"to": token, "title": notice.title, "body": notice.body, "data": data, "sound": "default"}
        for token in tokens
    ]


@dataclass(frozen=True)
class ExpoPush:
    """Sends through Expo's push API at ``url`` (empty: not configured)."""

    url: str
    timeout_s: float = PUSH_TIMEOUT_S

    @classmethod
    def from_settings(cls, settings: Settings) -> ExpoPush:
        return cls(url=settings.expo_push_url)

    async def push_lead(self, pool: Pool, owner_id: str, payload: dict[str, Any]) -> PushReport:
        """Push a finalized lead to every phone of its owner. Never raises (but for cancellation)."""
        report = PushReport(configured=bool(self.url))
        try:
            tokens = [t.token for t in await push_tokens.list_for_owner(pool, owner_id)]
            report.tokens = len(tokens)
            if not tokens:
                return report
            if not self.url:
                log.info(
                    "push not configured: would have sent %s for lead %s to %d device(s)",
                    LEAD_FINALIZED,
                    payload["lead_id"],
                    len(tokens),
                    extra={
                        "push_event": LEAD_FINALIZED,
                        "lead_id": payload["lead_id"],
                        "devices": len(tokens),
                    },
                )
                PUSH_NOTIFICATIONS.labels(result="not_configured").inc(len(tokens))
                return report
            messages = lead_messages(tokens, payload)
            async with httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False) as client:
                for start in range(0, len(messages), EXPO_BATCH):
                    await self._send_batch(
                        client, pool, owner_id, messages[start : start + EXPO_BATCH], report
                    )
        except Exception:  # best effort: the lead is stored whatever happens here
            log.exception("push for lead %s failed", payload.get("lead_id"))
            report.failed = report.tokens - report.sent - len(report.removed)
        log.info(
            "push %s for lead %s: %d device(s), %d sent, %d failed, %d token(s) removed",
            LEAD_FINALIZED,
            payload.get("lead_id"),
            report.tokens,
            report.sent,
            report.failed,
            len(report.removed),
        )
        return report

    async def _send_batch(
        self,
        client: httpx.AsyncClient,
        pool: Pool,
        owner_id: str,
        messages: list[dict[str, Any]],
        report: PushReport,
    ) -> None:
        try:
            async with asyncio.timeout(self.timeout_s):  # the whole exchange, not each read
                response = await client.post(
                    self.url,
                    json=messages,
                    headers={"accept": "application/json", "accept-encoding": "gzip, deflate"},
                )
            tickets = _tickets(response, len(messages))
        except TimeoutError:
            log.warning("Expo push: no answer within %g s for %d message(s)", self.timeout_s, len(messages))
            report.failed += len(messages)
            PUSH_NOTIFICATIONS.labels(result="failed").inc(len(messages))
            return
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("Expo push failed for %d message(s): %s", len(messages), exc)
            report.failed += len(messages)
            PUSH_NOTIFICATIONS.labels(result="failed").inc(len(messages))
            return
        errors: Counter[str] = Counter()
        for message, ticket in zip(messages, tickets, strict=True):
            if ticket.get("status") == "ok":
                report.sent += 1
                PUSH_NOTIFICATIONS.labels(result="sent").inc()
                continue
            details = ticket.get("details")
            error = str(details.get("error", "")) if isinstance(details, dict) else ""
            if error == "DeviceNotRegistered":
                await push_tokens.remove(pool, owner_id, message["to"])
                report.removed.append(message["to"])
                PUSH_NOTIFICATIONS.labels(result="device_not_registered").inc()
                continue
            errors[error or str(ticket.get("message", "unknown"))[:200]] += 1
            report.failed += 1
            PUSH_NOTIFICATIONS.labels(result="failed").inc()
        if errors:
            log.warning("Expo refused %d push message(s): %s", sum(errors.values()), dict(errors))


def _tickets(response: httpx.Response, expected: int) -> list[dict[str, Any]]:
    """Expo's ``{"data": [ticket, ...]}``, one ticket per message in order; ``ValueError`` otherwise."""
    if response.status_code != 200:
        raise ValueError(f"HTTP {response.status_code}: {response.text[:300]}")
    body = response.json()
    tickets = body.get("data") if isinstance(body, dict) else None
    if (
        not isinstance(tickets, list)
        or len(tickets) != expected
        or not all(isinstance(t, dict) for t in tickets)
    ):
        raise ValueError(f"unexpected answer: {response.text[:300]}")
    return tickets
