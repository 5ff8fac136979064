"""In-app notifications and the phones' push tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from gateway.api.deps import Db, Reader, Writer
from gateway.api.schemas.common import error_responses
from gateway.api.schemas.leads import NotificationList, NotificationPublic, PushTokenCreate, PushTokenPublic
from gateway.errors import NotFound
from persistence.repositories import notifications, push_tokens

router = APIRouter(tags=["notifications"])


def notification_public(n: notifications.Notification) -> NotificationPublic:
    return NotificationPublic(
        id=n.id, kind=n.kind, title=n.title, body=n.body, data=n.data, read=n.read, created_at=n.created_at
    )


@router.get("/v1/notifications", responses=error_responses(401, 403, 422, 429))
async def list_notifications(
    who: Reader,
    db: Db,
    unread: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> NotificationList:
    """``unread=true``: only the unread ones."""
    found = await notifications.list_for_owner(db, who.owner_id, unread_only=bool(unread), limit=limit)
    return NotificationList(items=[notification_public(n) for n in found])


@router.post("/v1/notifications/{notification_id}/read", responses=error_responses(401, 403, 404, 422, 429))
async def mark_read(
    notification_id: Annotated[str, Path(min_length=1, max_length=64)], who: Writer, db: Db
) -> NotificationPublic:
    found = await notifications.mark_read(db, who.owner_id, notification_id)
    if found is None:
        raise NotFound("No such notification.")
    return notification_public(found)


@router.post(
    "/v1/push-tokens", status_code=status.HTTP_201_CREATED, responses=error_responses(401, 403, 413, 422, 429)
)
async def register_push_token(body: PushTokenCreate, who: Writer, db: Db) -> PushTokenPublic:
    """Register an Expo push token (idempotent per account and token)."""
    saved = await push_tokens.add(db, who.owner_id, body.token, body.platform.value)
    return PushTokenPublic(token=saved.token, platform=saved.platform, created_at=saved.created_at)


@router.delete(
    "/v1/push-tokens/{token}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 429),
)
async def delete_push_token(
    token: Annotated[str, Path(min_length=1, max_length=512)], who: Writer, db: Db
) -> Response:
    if not await push_tokens.remove(db, who.owner_id, token):
        raise NotFound("No such push token.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
