"""Erasure: a session or a whole account, everywhere it lives — database rows, archived audio (and
uploads), and the session's messages on the bus — with an audit entry that outlives it.

Order matters: the bus and the archive go first and the rows last, so a failure part-way leaves the
session listed (and the delete can be retried) instead of leaving orphaned audio nobody can find.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from nats.js.errors import NotFoundError

from ayka import bus
from gateway.api.audit import write_audit
from gateway.api.store import sessions as queries
from gateway.errors import NotFound, Unavailable
from persistence.repositories import sessions, users

if TYPE_CHECKING:
    from gateway.state import GatewayState

log = logging.getLogger("ayka.gateway.erasure")

RETENTION_BATCH = 100


async def _purge_bus(state: GatewayState, session_id: str) -> None:
    """Drop every message of the session from JetStream — audio frames, final results, lifecycle events
    (start, end, ready, diarized, leads, …) — and its ASR bookkeeping in KV."""
    purges = (
        (bus.AUDIO_STREAM, bus.audio_subject(session_id)),
        (bus.TRANSCRIPTS_STREAM, bus.final_subject(session_id)),
        (bus.SESSIONS_STREAM, bus.session_subjects(session_id)),
        (bus.EVENTS_STREAM, bus.session_subjects(session_id)),
    )
    for stream, subject in purges:
        try:
            await state.js.purge_stream(stream, subject=subject)
        except NotFoundError:
            pass  # stream not created yet: nothing to purge
        except Exception as exc:
            raise Unavailable("The message bus is not available; the session was not deleted.") from exc
    for bucket in (bus.KV_ASR_PROGRESS, bus.KV_ASR_SESSIONS, bus.KV_ASR_OWNERS, bus.KV_LIVE_STREAMS):
        with contextlib.suppress(Exception):
            kv = await state.js.key_value(bucket)
            await kv.purge(session_id)


async def _delete_audio(state: GatewayState, session_id: str) -> None:
    try:
        await asyncio.to_thread(state.archive.delete, session_id)
    except Exception as exc:
        raise Unavailable("The audio archive is not available; the session was not deleted.") from exc


async def _stop_live_stream(state: GatewayState, session_id: str) -> None:
    stream = getattr(state, "streams", {}).get(session_id)
    if stream is not None:
        with contextlib.suppress(Exception):
            await stream.abort("session deleted")


async def _announce(state: GatewayState, session_id: str, owner_id: str) -> None:
    event = bus.SessionEvent(session_id=session_id, owner_id=owner_id)
    with contextlib.suppress(Exception):
        await state.js.publish(
            bus.event_subject(bus.SESSION_DELETED, session_id), event.model_dump_json().encode()
        )


async def erase_session(state: GatewayState, owner_id: str, session_id: str, *, actor: str) -> None:
    """Delete one session the owner owns; ``NotFound`` when it is not theirs (or does not exist)."""
    found = await sessions.get(state.pool, owner_id, session_id)
    if found is None:
        raise NotFound("No such session.")
    await _stop_live_stream(state, session_id)
    await _purge_bus(state, session_id)
    await _delete_audio(state, session_id)
    if await sessions.delete(state.pool, owner_id, session_id) is None:
        raise NotFound("No such session.")
    await write_audit(
        state.pool, owner_id, actor=actor, action="session.delete", target=f"session:{session_id}"
    )
    await _announce(state, session_id, owner_id)


async def erase_account(state: GatewayState, owner_id: str, *, actor: str) -> None:
    """Delete the user and everything they own; the audit entry stays (with the owner cleared)."""
    session_ids = await queries.session_ids_of_owner(state.pool, owner_id)
    for session_id in session_ids:
        await _stop_live_stream(state, session_id)
        await _purge_bus(state, session_id)
        await _delete_audio(state, session_id)
    await users.delete(state.pool, owner_id)  # cascades to every owned row
    await write_audit(
        state.pool,
        None,
        actor=actor,
        action="user.delete",
        target=f"user:{owner_id}",
        detail={"sessions": len(session_ids)},
    )
    for session_id in session_ids:
        await _announce(state, session_id, owner_id)


async def purge_expired_audio(state: GatewayState, *, now_s: float | None = None) -> int:
    """Retention: delete archived audio older than ``settings.retention_days`` (transcripts stay).
    Returns how many sessions lost their audio; 0 when retention is off."""
    days = state.settings.retention_days
    if days <= 0:
        return 0
    now = now_s if now_s is not None else time.time()
    before = datetime.fromtimestamp(now, UTC) - timedelta(days=days)
    purged = 0
    while True:
        batch = await sessions.list_audio_older_than(state.pool, before, limit=RETENTION_BATCH)
        for session in batch:
            try:
                await _delete_audio(state, session.id)
            except Unavailable:
                log.warning("retention: could not delete audio of %s; will retry", session.id)
                return purged
            await sessions.clear_audio(state.pool, session.id)
            await write_audit(
                state.pool,
                session.owner_id,
                actor="retention",
                action="session.audio_expired",
                target=f"session:{session.id}",
                detail={"retention_days": days},
            )
            purged += 1
        if len(batch) < RETENTION_BATCH:
            return purged
