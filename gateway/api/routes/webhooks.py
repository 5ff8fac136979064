"""Webhook endpoints: create/list/read/update/delete, secrets (rotate with 24 h overlap, reveal),
deliveries and replays. Sending is the delivery worker's job (agents/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from ayka.netguard import UnsafeTarget, check_saved_url
from ayka.settings import Settings
from gateway.api.audit import write_audit
from gateway.api.deps import Admin, Db, Reader, State, Writer
from gateway.api.schemas.common import error_responses
from gateway.api.schemas.webhooks import (
    DeliveryList,
    DeliveryPublic,
    ReplayRequest,
    ReplayResult,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookPublic,
    WebhookSecret,
    WebhookUpdate,
)
from gateway.api.store import webhooks as store
from gateway.errors import ApiError, NotFound
from gateway.security import new_webhook_secret
from persistence.repositories import deliveries, webhooks

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

SECRET_OVERLAP = timedelta(hours=24)
WebhookId = Annotated[str, Path(min_length=1, max_length=64)]


async def check_url(settings: Settings, url: str) -> str:
    """Refuse non-http(s) URLs and hosts that are, or resolve to, loopback, private or link-local
    addresses unless ``webhook_allow_private`` (the kernel's SSRF guard; the delivery worker checks the
    resolved address again before every attempt)."""
    try:
        await check_saved_url(url, allow_private=settings.webhook_allow_private)
    except UnsafeTarget as exc:
        raise ApiError(
            f"Webhook URLs must point at a public host: {exc}.", code="webhook_url_not_allowed", status=422
        ) from None
    return url


def endpoint_public(e: webhooks.WebhookEndpoint) -> WebhookPublic:
    return WebhookPublic(
        id=e.id,
        url=e.url,
        description=e.description,
        event_types=e.event_types,
        enabled=e.enabled,
        disabled_reason=e.disabled_reason,
        failing_since=e.failing_since,
        created_at=e.created_at,
        updated_at=e.updated_at,
    )


async def owned_endpoint(db: Db, owner_id: str, webhook_id: str) -> webhooks.WebhookEndpoint:
    found = await webhooks.get(db, owner_id, webhook_id)
    if found is None:
        raise NotFound("No such webhook.")
    return found


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(401, 403, 413, 422, 429))
async def create_webhook(body: WebhookCreate, who: Admin, state: State) -> WebhookCreated:
    """The answer carries the signing secret (``whsec_…``, Standard Webhooks)."""
    url = await check_url(state.settings, str(body.url))
    secret = new_webhook_secret()
    created = await webhooks.create(
        state.pool, who.owner_id, url, sorted({str(t) for t in body.event_types}), secret, body.description
    )
    await write_audit(
        state.pool,
        who.owner_id,
        actor=who.key_id or who.owner_id,
        action="webhook.create",
        target=f"webhook:{created.id}",
    )
    return WebhookCreated(**endpoint_public(created).model_dump(), secret=secret)


@router.get("", responses=error_responses(401, 403, 429))
async def list_webhooks(who: Reader, db: Db) -> WebhookList:
    return WebhookList(items=[endpoint_public(e) for e in await webhooks.list_for_owner(db, who.owner_id)])


@router.get("/{webhook_id}", responses=error_responses(401, 403, 404, 422, 429))
async def get_webhook(webhook_id: WebhookId, who: Reader, db: Db) -> WebhookPublic:
    return endpoint_public(await owned_endpoint(db, who.owner_id, webhook_id))


@router.patch("/{webhook_id}", responses=error_responses(401, 403, 404, 413, 422, 429))
async def update_webhook(
    webhook_id: WebhookId, body: WebhookUpdate, who: Writer, state: State
) -> WebhookPublic:
    updated = await webhooks.update(
        state.pool,
        who.owner_id,
        webhook_id,
        url=await check_url(state.settings, str(body.url)) if body.url is not None else None,
        description=body.description,
        event_types=sorted({str(t) for t in body.event_types}) if body.event_types is not None else None,
        enabled=body.enabled,
    )
    if updated is None:
        raise NotFound("No such webhook.")
    return endpoint_public(updated)


@router.delete(
    "/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 403, 404, 429)
)
async def delete_webhook(webhook_id: WebhookId, who: Writer, db: Db) -> Response:
    if not await webhooks.delete(db, who.owner_id, webhook_id):
        raise NotFound("No such webhook.")
    await write_audit(
        db,
        who.owner_id,
        actor=who.key_id or who.owner_id,
        action="webhook.delete",
        target=f"webhook:{webhook_id}",
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/rotate-secret", responses=error_responses(401, 403, 404, 422, 429))
async def rotate_secret(webhook_id: WebhookId, who: Admin, db: Db) -> WebhookSecret:
    """A new secret; the old one keeps signing alongside it for 24 hours."""
    rotated = await webhooks.rotate_secret(
        db, who.owner_id, webhook_id, new_webhook_secret(), datetime.now(UTC) + SECRET_OVERLAP
    )
    if rotated is None:
        raise NotFound("No such webhook.")
    await write_audit(
        db,
        who.owner_id,
        actor=who.key_id or who.owner_id,
        action="webhook.rotate_secret",
        target=f"webhook:{webhook_id}",
    )
    return WebhookSecret(secret=rotated.secret, previous_secret_expires_at=rotated.previous_secret_expires_at)


@router.get("/{webhook_id}/secret", responses=error_responses(401, 403, 404, 422, 429))
async def reveal_secret(webhook_id: WebhookId, who: Admin, db: Db) -> WebhookSecret:
    found = await owned_endpoint(db, who.owner_id, webhook_id)
    return WebhookSecret(secret=found.secret, previous_secret_expires_at=found.previous_secret_expires_at)


@router.get("/{webhook_id}/deliveries", responses=error_responses(401, 403, 404, 422, 429))
async def list_deliveries(
    webhook_id: WebhookId,
    who: Reader,
    db: Db,
    status: Annotated[str | None, Query(pattern="^(pending|delivering|succeeded|failed|dead)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryList:
    await owned_endpoint(db, who.owner_id, webhook_id)
    rows = await store.list_deliveries(db, who.owner_id, webhook_id, status=status, limit=limit)
    return DeliveryList(items=[DeliveryPublic.model_validate(dict(r)) for r in rows])


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}/payload", responses=error_responses(401, 403, 404, 422, 429)
)
async def delivery_payload(
    webhook_id: WebhookId, delivery_id: Annotated[str, Path(min_length=1, max_length=64)], who: Reader, db: Db
) -> dict[str, Any]:
    """The full body of a delivery (large payloads are sent as a link to this)."""
    found = await deliveries.get(db, who.owner_id, delivery_id)
    if found is None or found.endpoint_id != webhook_id:
        raise NotFound("No such delivery.")
    return found.payload


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404, 422, 429),
)
async def replay_delivery(
    webhook_id: WebhookId, delivery_id: Annotated[str, Path(min_length=1, max_length=64)], who: Writer, db: Db
) -> ReplayResult:
    """Send this delivery again now (same ``webhook-id``, so receivers can deduplicate)."""
    if await deliveries.replay(db, who.owner_id, webhook_id, delivery_id, datetime.now(UTC)) is None:
        raise NotFound("No such delivery.")
    return ReplayResult(replayed=1)


@router.post(
    "/{webhook_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404, 413, 422, 429),
)
async def replay_since(webhook_id: WebhookId, body: ReplayRequest, who: Writer, db: Db) -> ReplayResult:
    """Send again every failed (or dead) delivery created at or after ``since``."""
    await owned_endpoint(db, who.owner_id, webhook_id)
    count = await deliveries.replay_failed_since(db, who.owner_id, webhook_id, body.since, datetime.now(UTC))
    return ReplayResult(replayed=count)
