"""Sessions: list, read, rename, delete; transcript, audio link, diarization, speakers, summary."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import PlainTextResponse

from gateway.api import formats
from gateway.api.deps import Db, Reader, State, Writer
from gateway.api.erasure import erase_session
from gateway.api.schemas.common import error_responses
from gateway.api.schemas.sessions import (
    ActionItem,
    AudioLink,
    Diarization,
    DiarizationFormat,
    SegmentPublic,
    SessionList,
    SessionPublic,
    SessionStatus,
    SessionUpdate,
    SpeakerList,
    SpeakerPublic,
    SpeakerUpdate,
    SummaryPublic,
    Transcript,
    TranscriptFormat,
    Turn,
    coerce_word,
    default_speaker_name,
)
from gateway.errors import ApiError, NotFound
from persistence.archive.base import ArchiveError, ArchiveNotFound
from persistence.repositories import diarization, segments, sessions, speakers, summaries
from persistence.repositories._common import InvalidCursor

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])

AUDIO_URL_TTL_S = 300
SessionId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
_TEXT = {"content": {"text/plain": {"schema": {"type": "string"}}}}


def session_public(s: sessions.Session) -> SessionPublic:
    return SessionPublic(
        id=s.id,
        title=s.title,
        status=s.status,
        source="upload" if s.source == "upload" else "live",
        created_at=s.created_at,
        ended_at=s.ended_at,
        duration_s=s.duration_s,
        language=s.language,
        model=s.model,
        diarize_backend=s.diarize_backend,
        diarization_status=s.diarization_status,
        agents_status=s.agents_status,
        segment_count=s.segment_count,
        speaker_count=s.speaker_count,
        error=s.error,
    )


async def owned_session(db: Db, owner_id: str, session_id: str) -> sessions.Session:
    found = await sessions.get(db, owner_id, session_id)
    if found is None:
        raise NotFound("No such session.")
    return found


@router.get("", responses=error_responses(400, 401, 403, 422, 429))
async def list_sessions(
    who: Reader,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status: SessionStatus | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> SessionList:
    """Newest first. Pass ``next_cursor`` back as ``cursor`` for the next page."""
    try:
        page = await sessions.list_for_owner(
            db,
            who.owner_id,
            limit=limit,
            cursor=cursor,
            status=sessions.SessionStatus(status.value) if status else None,
            since=since,
            until=until,
            q=q or None,
        )
    except InvalidCursor as exc:
        raise ApiError("The cursor is not valid; start from the first page.", code="invalid_cursor") from exc
    return SessionList(items=[session_public(s) for s in page.items], next_cursor=page.next_cursor)


@router.get("/{session_id}", responses=error_responses(401, 403, 404, 422, 429))
async def get_session(session_id: SessionId, who: Reader, db: Db) -> SessionPublic:
    return session_public(await owned_session(db, who.owner_id, session_id))


@router.patch("/{session_id}", responses=error_responses(401, 403, 404, 413, 422, 429))
async def update_session(session_id: SessionId, body: SessionUpdate, who: Writer, db: Db) -> SessionPublic:
    updated = await sessions.update_title(db, who.owner_id, session_id, body.title)
    if updated is None:
        raise NotFound("No such session.")
    return session_public(updated)


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 429, 503),
)
async def delete_session(session_id: SessionId, who: Writer, state: State) -> Response:
    """Erases the rows, the archived audio and the session's messages on the bus; writes an audit entry."""
    await erase_session(state, who.owner_id, session_id, actor=who.key_id or who.owner_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def load_segments(db: Db, owner_id: str, session_id: str) -> list[SegmentPublic]:
    await owned_session(db, owner_id, session_id)
    rows = await segments.list_for_session(db, owner_id, session_id)
    names = {s.label: s.name for s in await speakers.list_for_session(db, owner_id, session_id)}
    return [
        SegmentPublic(
            index=r.idx,
            start_s=r.start_s,
            end_s=r.end_s,
            text=r.text,
            speaker=r.speaker,
            speaker_name=names.get(r.speaker, default_speaker_name(r.speaker))
            if r.speaker is not None
            else None,
            words=[coerce_word(w) for w in (r.words or []) if isinstance(w, dict)],
        )
        for r in rows
    ]


@router.get(
    "/{session_id}/transcript",
    response_model=Transcript,
    responses={200: _TEXT, **error_responses(401, 403, 404, 422, 429)},
)
async def get_transcript(
    session_id: SessionId, who: Reader, db: Db, format: TranscriptFormat = TranscriptFormat.JSON
) -> Response:
    """JSON (segments with words and speakers), or plain text, SRT or WebVTT."""
    segments = await load_segments(db, who.owner_id, session_id)
    if format is TranscriptFormat.JSON:
        body = Transcript(session_id=session_id, segments=segments).model_dump_json()
        return Response(body, media_type="application/json")
    render = {TranscriptFormat.TXT: formats.to_txt, TranscriptFormat.SRT: formats.to_srt}
    if format is TranscriptFormat.VTT:
        return PlainTextResponse(formats.to_vtt(segments), media_type="text/vtt")
    return PlainTextResponse(render[format](segments))


@router.get("/{session_id}/audio", responses=error_responses(401, 403, 404, 422, 429, 503))
async def get_audio(session_id: SessionId, who: Reader, state: State) -> AudioLink:
    """A short-lived download link for the archived audio (404 ``audio_not_found`` when there is none)."""
    await owned_session(state.pool, who.owner_id, session_id)
    try:
        url = await asyncio.to_thread(state.archive.url, session_id, AUDIO_URL_TTL_S)
    except ArchiveNotFound as exc:
        raise NotFound("This session has no archived audio.", code="audio_not_found") from exc
    except ArchiveError as exc:
        raise ApiError("The archive cannot make a link now.", code="unavailable", status=503) from exc
    return AudioLink(url=url, expires_at=datetime.now(UTC) + timedelta(seconds=AUDIO_URL_TTL_S))


async def load_turns(db: Db, owner_id: str, session_id: str) -> list[Turn]:
    rows = await diarization.list_turns(db, owner_id, session_id)
    if rows:
        return [Turn(start_s=r.start_s, end_s=r.end_s, speaker=r.speaker) for r in rows]
    # No post-call diarization yet: the live labels on the segments are the best we have.
    segments = await load_segments(db, owner_id, session_id)
    return [
        Turn(start_s=s.start_s, end_s=s.end_s, speaker=s.speaker) for s in segments if s.speaker is not None
    ]


@router.get(
    "/{session_id}/diarization",
    response_model=Diarization,
    responses={200: _TEXT, **error_responses(401, 403, 404, 422, 429)},
)
async def get_diarization(
    session_id: SessionId, who: Reader, db: Db, format: DiarizationFormat = DiarizationFormat.JSON
) -> Response:
    session = await owned_session(db, who.owner_id, session_id)
    turns = await load_turns(db, who.owner_id, session_id)
    if format is DiarizationFormat.RTTM:
        return PlainTextResponse(formats.to_rttm(session_id, turns))
    body = Diarization(session_id=session_id, backend=session.diarize_backend, turns=turns)
    return Response(body.model_dump_json(), media_type="application/json")


@router.get("/{session_id}/speakers", responses=error_responses(401, 403, 404, 422, 429))
async def list_speakers(session_id: SessionId, who: Reader, db: Db) -> SpeakerList:
    await owned_session(db, who.owner_id, session_id)
    found = await speakers.list_for_session(db, who.owner_id, session_id)
    return SpeakerList(items=[SpeakerPublic(label=s.label, name=s.name) for s in found])


@router.patch("/{session_id}/speakers/{label}", responses=error_responses(401, 403, 404, 413, 422, 429))
async def rename_speaker(
    session_id: SessionId,
    label: Annotated[int, Path(ge=0, le=1000)],
    body: SpeakerUpdate,
    who: Writer,
    db: Db,
) -> SpeakerPublic:
    if await speakers.rename(db, who.owner_id, session_id, label, body.name) is None:
        raise NotFound("No such session.")
    return SpeakerPublic(label=label, name=body.name)


@router.get("/{session_id}/summary", responses=error_responses(401, 403, 404, 422, 429))
async def get_summary(session_id: SessionId, who: Reader, db: Db) -> SummaryPublic:
    """404 ``summary_not_ready`` until the agents have written it."""
    await owned_session(db, who.owner_id, session_id)
    found = await summaries.get(db, who.owner_id, session_id)
    if found is None:
        raise NotFound("The summary is not ready yet.", code="summary_not_ready")
    return SummaryPublic(
        abstract=found.abstract,
        bullets=[str(b) for b in found.bullets],
        action_items=[ActionItem.model_validate(a) for a in found.action_items if isinstance(a, dict)],
        engine=found.engine,
    )
