"""Webhook endpoints: where an owner wants events delivered, with the signing secret(s).

During rotation the previous secret stays valid until ``previous_secret_expires_at`` (deliveries are
signed with both). The outbox of deliveries is in ``deliveries``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from persistence.db import Db
from persistence.repositories._common import columns, new_id, to_row, to_rows


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: str
    owner_id: str
    url: str
    description: str
    event_types: list[str]
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets to sign with now: the current one, and the previous one while it is still valid."""
        valid_previous = (
            self.previous_secret is not None
            and self.previous_secret_expires_at is not None
            and self.previous_secret_expires_at > now
        )
        return (
            [self.secret, self.previous_secret] if valid_previous and self.previous_secret else [self.secret]
        )


_COLS = columns(WebhookEndpoint)


async def create(
    db: Db, owner_id: str, url: str, event_types: Sequence[str], secret: str, description: str = ""
) -> WebhookEndpoint:
    row = await db.fetchrow(
        f"""INSERT INTO webhook_endpoints (id, owner_id, url, description, event_types, secret)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLS}""",
        new_id("wh"),
        owner_id,
        url,
        description,
        list(event_types),
        secret,
    )
    endpoint = to_row(WebhookEndpoint, row)
    assert endpoint is not None
    return endpoint


async def get(db: Db, owner_id: str, endpoint_id: str) -> WebhookEndpoint | None:
    row = await db.fetchrow(
        f"SELECT {_COLS} FROM webhook_endpoints WHERE id = $1 AND owner_id = $2", endpoint_id, owner_id
    )
    return to_row(WebhookEndpoint, row)


async def list_for_owner(db: Db, owner_id: str) -> list[WebhookEndpoint]:
    rows = await db.fetch(
        f"SELECT {_COLS} FROM webhook_endpoints WHERE owner_id = $1 ORDER BY created_at, id", owner_id
    )
    return to_rows(WebhookEndpoint, rows)


async def update(
    db: Db,
    owner_id: str,
    endpoint_id: str,
    *,
    url: str | None = None,
    description: str | None = None,
    event_types: Sequence[str] | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint | None:
    """Change what is given. Re-enabling clears ``disabled_reason`` and ``failing_since``."""
    row = await db.fetchrow(
        f"""UPDATE webhook_endpoints SET
                url = coalesce($3, url),
                description = coalesce($4, description),
                event_types = coalesce($5, event_types),
                enabled = coalesce($6, enabled),
                disabled_reason = CASE WHEN $6 THEN NULL ELSE disabled_reason END,
                failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END,
                updated_at = now()
            WHERE id = $1 AND owner_id = $2 RETURNING {_COLS}""",
        endpoint_id,
        owner_id,
        url,
        description,
        list(event_types) if event_types is not None else None,
        enabled,
    )
    return to_row(WebhookEndpoint, row)


async def delete(db: Db, owner_id: str, endpoint_id: str) -> bool:
    done = await db.fetchval(
        "DELETE FROM webhook_endpoints WHERE id = $1 AND owner_id = $2 RETURNING true", endpoint_id, owner_id
    )
    return bool(done)


async def rotate_secret(
    db: Db, owner_id: str, endpoint_id: str, new_secret: str, previous_valid_until: datetime
) -> WebhookEndpoint | None:
    row = await db.fetchrow(
        f"""UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = $4,
                secret = $3, updated_at = now()
            WHERE id = $1 AND owner_id = $2 RETURNING {_COLS}""",
        endpoint_id,
        owner_id,
        new_secret,
        previous_valid_until,
    )
    return to_row(WebhookEndpoint, row)


# ---------------------------------------------------------------- internal: the delivery worker


async def get_for_worker(db: Db, endpoint_id: str) -> WebhookEndpoint | None:
    return to_row(
        WebhookEndpoint,
        await db.fetchrow(f"SELECT {_COLS} FROM webhook_endpoints WHERE id = $1", endpoint_id),
    )


async def disable(db: Db, endpoint_id: str, reason: str) -> bool:
    done = await db.fetchval(
        """UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now()
           WHERE id = $1 AND enabled RETURNING true""",
        endpoint_id,
        reason,
    )
    return bool(done)


async def set_failing_since(db: Db, endpoint_id: str, since: datetime | None) -> None:
    """``since`` on the first failure (kept while it keeps failing); None after a success."""
    await db.execute(
        """UPDATE webhook_endpoints
           SET failing_since = CASE WHEN $2::timestamptz IS NULL THEN NULL
                                    ELSE coalesce(failing_since, $2) END
           WHERE id = $1""",
        endpoint_id,
        since,
    )
