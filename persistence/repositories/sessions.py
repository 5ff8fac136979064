"""Sessions: one live stream or one uploaded recording, with its lifecycle and archived audio."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from persistence.archive.base import ArchivedAudio
from persistence.db import Db
from persistence.repositories._common import (
    Page,
    columns,
    decode_cursor,
    encode_cursor,
    like_pattern,
    to_row,
    to_rows,
    transaction,
)


class SessionStatus(enum.StrEnum):
    LIVE = "live"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class SessionSource(enum.StrEnum):
    LIVE = "live"
    UPLOAD = "upload"


class StepStatus(enum.StrEnum):
    """State of a post-call step (diarization, agents)."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    owner_id: str
    title: str
    status: str
    source: str
    language: str | None
    model: str | None
    options: dict[str, Any]
    diarize_backend: str | None
    diarization_status: str
    agents_status: str
    worker_id: str | None
    error: str | None
    agents_error: str | None
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    last_seq: int | None
    transcribed_at: datetime | None
    archived_at: datetime | None
    ready_at: datetime | None
    audio_key: str | None
    audio_format: str | None
    audio_bytes: int | None
    audio_sha256: str | None
    segment_count: int = 0
    speaker_count: int = 0


_TABLE_COLS = columns(Session, "s").replace(", s.segment_count", "").replace(", s.speaker_count", "")
_SELECT = f"""SELECT {_TABLE_COLS},
    (SELECT count(*) FROM segments g WHERE g.session_id = s.id)::int AS segment_count,
    (SELECT count(DISTINCT g.speaker) FROM segments g WHERE g.session_id = s.id)::int AS speaker_count
    FROM sessions s"""


async def create(
    db: Db,
    session_id: str,
    owner_id: str,
    *,
    title: str = "",
    source: SessionSource = SessionSource.LIVE,
    status: SessionStatus = SessionStatus.LIVE,
    language: str | None = None,
    model: str | None = None,
    options: dict[str, Any] | None = None,
    diarize_backend: str | None = None,
    diarization_status: StepStatus = StepStatus.PENDING,
    agents_status: StepStatus = StepStatus.PENDING,
) -> Session | None:
    """Create the session, or return the existing one when the same owner resumes it. ``None`` when the
    id already belongs to someone else."""
    await db.execute(
        """INSERT INTO sessions (id, owner_id, title, source, status, language, model, options,
                                 diarize_backend, diarization_status, agents_status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING""",
        session_id,
        owner_id,
        title,
        str(source),
        str(status),
        language,
        model,
        options or {},
        diarize_backend,
        str(diarization_status),
        str(agents_status),
    )
    return await get(db, owner_id, session_id)


async def get(db: Db, owner_id: str, session_id: str) -> Session | None:
    row = await db.fetchrow(f"{_SELECT} WHERE s.id = $1 AND s.owner_id = $2", session_id, owner_id)
    return to_row(Session, row)


async def get_for_worker(db: Db, session_id: str) -> Session | None:
    """Internal: a background service acting on a session id from the bus."""
    return to_row(Session, await db.fetchrow(f"{_SELECT} WHERE s.id = $1", session_id))


async def list_for_owner(
    db: Db,
    owner_id: str,
    *,
    limit: int = 50,
    cursor: str | None = None,
    status: SessionStatus | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: str | None = None,
) -> Page[Session]:
    """Newest first, keyset-paginated on (created_at, id). ``q`` matches the title or any segment text.
    Raises ``InvalidCursor`` for a cursor this server did not hand out."""
    after_at, after_id = decode_cursor(cursor) if cursor else (None, None)
    rows = await db.fetch(
        f"""{_SELECT}
            WHERE s.owner_id = $1
              AND ($2::timestamptz IS NULL OR (s.created_at, s.id) < ($2, $3::text))
              AND ($4::text IS NULL OR s.status = $4)
              AND ($5::timestamptz IS NULL OR s.created_at >= $5)
              AND ($6::timestamptz IS NULL OR s.created_at < $6)
              AND ($7::text IS NULL OR s.title ILIKE $7 OR EXISTS (
                    SELECT 1 FROM segments g WHERE g.session_id = s.id AND g.text ILIKE $7))
            ORDER BY s.created_at DESC, s.id DESC
            LIMIT $8""",
        owner_id,
        after_at,
        after_id,
        str(status) if status else None,
        since,
        until,
        like_pattern(q) if q else None,
        limit + 1,
    )
    items = to_rows(Session, rows[:limit])
    next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if len(rows) > limit else None
    return Page(items, next_cursor)


async def update_title(db: Db, owner_id: str, session_id: str, title: str) -> Session | None:
    done = await db.fetchval(
        "UPDATE sessions SET title = $3, updated_at = now() WHERE id = $1 AND owner_id = $2 RETURNING true",
        session_id,
        owner_id,
        title,
    )
    return await get(db, owner_id, session_id) if done else None


async def delete(db: Db, owner_id: str, session_id: str) -> Session | None:
    """Erase the session and its segments, speakers, turns, leads, events, summary (cascade). Returns the
    deleted row (its ``audio_key`` tells the caller what to remove from the archive), or None."""
    session = await get(db, owner_id, session_id)
    if session is None:
        return None
    done = await db.fetchval(
        "DELETE FROM sessions WHERE id = $1 AND owner_id = $2 RETURNING true", session_id, owner_id
    )
    return session if done else None


# ---------------------------------------------------------------- internal: lifecycle from the services


async def claim_agents(db: Db, session_id: str) -> bool:
    """Internal: mark the agents step running unless it is done; False when it is done (or the session is
    gone). Two triggers of one session (post-call ``ready`` and ``diarized``, or a redelivery) must not take
    a finished session back to running: the later run would store and announce everything again."""
    claimed = await db.fetchval(
        """UPDATE sessions SET agents_status = $2, updated_at = now()
           WHERE id = $1 AND agents_status <> $3 RETURNING true""",
        session_id,
        str(StepStatus.RUNNING),
        str(StepStatus.DONE),
    )
    return bool(claimed)


async def fail_agents(db: Db, session_id: str, error: str) -> None:
    """Internal: the agents step failed with ``error``, unless another run has finished it meanwhile."""
    await db.execute(
        """UPDATE sessions SET agents_status = $2, error = $3, updated_at = now()
           WHERE id = $1 AND agents_status <> $4""",
        session_id,
        str(StepStatus.FAILED),
        error,
        str(StepStatus.DONE),
    )


async def update_state(
    db: Db,
    session_id: str,
    *,
    status: SessionStatus | None = None,
    diarization_status: StepStatus | None = None,
    agents_status: StepStatus | None = None,
    diarize_backend: str | None = None,
    worker_id: str | None = None,
    error: str | None = None,
    agents_error: str | None = None,
) -> bool:
    """Internal: set whichever of these are given (None leaves a column as it is)."""
    done = await db.fetchval(
        """UPDATE sessions SET
               status = coalesce($2, status),
               diarization_status = coalesce($3, diarization_status),
               agents_status = coalesce($4, agents_status),
               diarize_backend = coalesce($5, diarize_backend),
               worker_id = coalesce($6, worker_id),
               error = coalesce($7, error),
               agents_error = coalesce($8, agents_error),
               updated_at = now()
           WHERE id = $1 RETURNING true""",
        session_id,
        str(status) if status else None,
        str(diarization_status) if diarization_status else None,
        str(agents_status) if agents_status else None,
        diarize_backend,
        worker_id,
        error,
        agents_error,
    )
    return bool(done)


async def mark_ended(
    db: Db,
    session_id: str,
    *,
    last_seq: int | None,
    duration_s: float | None,
    status: SessionStatus = SessionStatus.PROCESSING,
) -> bool:
    """Internal: the stream ended (first end wins for ``ended_at``)."""
    done = await db.fetchval(
        """UPDATE sessions SET ended_at = coalesce(ended_at, now()), last_seq = coalesce($2, last_seq),
               duration_s = coalesce($3, duration_s), status = $4, updated_at = now()
           WHERE id = $1 RETURNING true""",
        session_id,
        last_seq,
        duration_s,
        str(status),
    )
    return bool(done)


async def _mark_and_check_ready(db: Db, session_id: str, set_sql: str, other: str, *args: Any) -> bool:
    """Set one readiness marker; ``other`` is the marker set by the other party. Right-hand sides of SET
    read the old row, so ready_at becomes now() when ``other`` was already set."""

    # Row lock first, so that of two concurrent markers exactly one sees "both set, ready_at was null".
    async with transaction(db) as conn:
        before = await conn.fetchrow("SELECT ready_at FROM sessions WHERE id = $1 FOR UPDATE", session_id)
        if before is None:
            return False
        ready_at = await conn.fetchval(
            f"""UPDATE sessions SET {set_sql}, updated_at = now(),
                    ready_at = CASE WHEN ready_at IS NULL AND {other} IS NOT NULL THEN now() ELSE ready_at END
                WHERE id = $1 RETURNING ready_at""",
            session_id,
            *args,
        )
        return before["ready_at"] is None and ready_at is not None


async def mark_transcribed(db: Db, session_id: str) -> bool:
    """Internal: every final is persisted. True for exactly one caller: the one whose marker made the
    session ready (transcribed and archived), which then announces ``session.ready``."""
    return await _mark_and_check_ready(
        db, session_id, "transcribed_at = coalesce(transcribed_at, now())", "archived_at"
    )


async def mark_archived(db: Db, session_id: str, audio: ArchivedAudio) -> bool:
    """Internal: the archive file is final (its key, size and hash are stored). Same rule as above."""
    return await _mark_and_check_ready(
        db,
        session_id,
        "archived_at = coalesce(archived_at, now()), audio_key = $2, audio_format = $3, "
        "audio_bytes = $4, audio_sha256 = $5, duration_s = coalesce(duration_s, $6)",
        "transcribed_at",
        audio.key,
        audio.format,
        audio.size_bytes,
        audio.pcm_sha256,
        audio.duration_s,
    )


async def list_audio_older_than(db: Db, before: datetime, limit: int = 100) -> list[Session]:
    """Internal (retention): sessions whose archived audio is older than ``before``."""
    rows = await db.fetch(
        f"""{_SELECT} WHERE s.audio_key IS NOT NULL AND s.archived_at < $1
            ORDER BY s.archived_at LIMIT $2""",
        before,
        limit,
    )
    return to_rows(Session, rows)


async def clear_audio(db: Db, session_id: str) -> bool:
    """Internal (retention): the audio was deleted from the archive; the transcript stays."""
    done = await db.fetchval(
        """UPDATE sessions SET audio_key = NULL, audio_bytes = NULL, updated_at = now()
           WHERE id = $1 RETURNING true""",
        session_id,
    )
    return bool(done)
