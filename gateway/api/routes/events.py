"""Events mentioned in calls (meetings, deadlines, demos)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from gateway.api.deps import Db, Reader
from gateway.api.schemas.common import error_responses
from gateway.api.schemas.leads import EventList, EventPublic
from gateway.errors import NotFound
from persistence.repositories import events

router = APIRouter(prefix="/v1/events", tags=["events"])


def event_public(event: events.Event) -> EventPublic:
    data: dict[str, Any] = dataclasses.asdict(event)
    data["evidence"] = [e for e in data.get("evidence") or [] if isinstance(e, dict) and "quote" in e]
    return EventPublic.model_validate(data)


@router.get("", responses=error_responses(401, 403, 422, 429))
async def list_events(
    who: Reader,
    db: Db,
    session_id: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> EventList:
    found = await events.list_for_owner(db, who.owner_id, session_id=session_id, since=since, limit=limit)
    return EventList(items=[event_public(e) for e in found])


@router.get("/{event_id}", responses=error_responses(401, 403, 404, 422, 429))
async def get_event(
    event_id: Annotated[str, Path(min_length=1, max_length=64)], who: Reader, db: Db
) -> EventPublic:
    found = await events.get(db, who.owner_id, event_id)
    if found is None:
        raise NotFound("No such event.")
    return event_public(found)
