"""Upload a recording (multipart), or on an S3 archive: presign a PUT, upload, then ``complete``."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Annotated

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi import Path as PathParam

from ayka.settings import Settings
from gateway.api.deps import State, Writer
from gateway.api.ingest_upload import start_ingest, upload_start
from gateway.api.routes.sessions import session_public
from gateway.api.schemas.common import error_responses
from gateway.api.schemas.recordings import PresignedUpload, PresignRequest
from gateway.api.schemas.sessions import SessionPublic
from gateway.api.store import sessions as store
from gateway.errors import Conflict, NotFound, PayloadTooLarge
from persistence.archive import upload_key
from persistence.archive.base import Archive, ArchiveError, ArchiveNotFound
from persistence.repositories import sessions

router = APIRouter(prefix="/v1/recordings", tags=["recordings"])

PRESIGN_TTL_S = 900
COPY_CHUNK_BYTES = 1024 * 1024


def _temp_path(settings: Settings) -> Path:
    folder = settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="upload-", dir=folder)
    os.close(handle)
    return Path(name)


def _save_upload(src: IO[bytes], settings: Settings) -> Path:
    """Copy the upload to a file of our own, at most ``max_upload_bytes`` (``PayloadTooLarge`` past it)."""
    limit = settings.max_upload_bytes
    dest = _temp_path(settings)
    total = 0
    with dest.open("wb") as out:
        while chunk := src.read(COPY_CHUNK_BYTES):
            total += len(chunk)
            if total > limit:
                break
            out.write(chunk)
    if total > limit:
        dest.unlink(missing_ok=True)
        raise PayloadTooLarge(f"The recording is larger than {limit} bytes.")
    return dest


def _fetch_upload(archive: Archive, key: str, settings: Settings) -> Path:
    """The presigned upload, copied from the archive to a local file."""
    dest = _temp_path(settings)
    try:
        archive.get_file(key, dest)
    except ArchiveNotFound as exc:
        dest.unlink(missing_ok=True)
        raise Conflict("Nothing was uploaded to upload_url yet.", code="upload_missing") from exc
    if dest.stat().st_size > settings.max_upload_bytes:
        dest.unlink(missing_ok=True)
        raise PayloadTooLarge(f"The recording is larger than {settings.max_upload_bytes} bytes.")
    return dest


async def _create_session(
    state: State, owner_id: str, title: str, language: str, diarize: bool, extra: dict[str, str] | None = None
) -> sessions.Session:
    backend = state.settings.diarize_backend.value if diarize else "off"
    start = upload_start(owner_id, uuid.uuid4().hex, language, diarize)
    created = await sessions.create(
        state.pool,
        start.session_id,
        owner_id,
        title=title,
        source=sessions.SessionSource.UPLOAD,
        status=sessions.SessionStatus.PROCESSING,
        language=language,
        model=state.settings.asr_model,
        options={**start.options.model_dump(), **(extra or {})},
        diarize_backend=backend,
        diarization_status=sessions.StepStatus.OFF if backend == "off" else sessions.StepStatus.PENDING,
    )
    assert created is not None
    return created


@router.post("", status_code=status.HTTP_202_ACCEPTED, responses=error_responses(401, 403, 413, 422, 429))
async def upload_recording(
    who: Writer,
    state: State,
    file: Annotated[
        UploadFile, File(description="An audio or video file (WAV, FLAC, MP3, Ogg, WebM, MP4, …)")
    ],
    title: Annotated[str, Form(max_length=500)] = "",
    language: Annotated[str, Form(min_length=2, max_length=16, pattern=r"^[A-Za-z-]+$")] = "en",
    diarize: Annotated[bool, Form()] = True,
) -> SessionPublic:
    """Answers 202 with the new session (``status: processing``) as soon as the file is stored; it is
    then transcribed by the live engine. Files that are not audio end as ``status: failed`` with ``error``."""
    limit = state.settings.max_upload_bytes
    if file.size is not None and file.size > limit:
        raise PayloadTooLarge(f"The recording is larger than {limit} bytes.")
    path = await asyncio.to_thread(_save_upload, file.file, state.settings)
    session = await _create_session(state, who.owner_id, title or (file.filename or ""), language, diarize)
    start_ingest(state, upload_start(who.owner_id, session.id, language, diarize), path)
    return session_public(session)


@router.post("/presign", responses=error_responses(401, 403, 409, 413, 422, 429))
async def presign(body: PresignRequest, who: Writer, state: State) -> PresignedUpload:
    """S3 archives only (409 ``presign_unsupported`` otherwise): PUT the file to ``upload_url`` with the
    given headers, then call ``POST /v1/recordings/{session_id}/complete``."""
    if not state.settings.archive_url.startswith("s3://"):
        raise Conflict(
            "Presigned uploads need an S3 archive; use POST /v1/recordings.", code="presign_unsupported"
        )
    session = await _create_session(
        state, who.owner_id, body.title or body.filename, body.language, body.diarize
    )
    key = upload_key(session.id, body.filename)
    await store.merge_options(state.pool, session.id, {"upload_key": key})
    try:
        url = await asyncio.to_thread(state.archive.presign_put, key, PRESIGN_TTL_S, body.content_type)
    except ArchiveError as exc:
        raise Conflict(str(exc), code="presign_unsupported") from exc
    return PresignedUpload(
        session_id=session.id,
        upload_url=url,
        expires_at=datetime.now(UTC) + timedelta(seconds=PRESIGN_TTL_S),
        headers={"Content-Type": body.content_type},
    )


@router.post(
    "/{session_id}/complete",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404, 409, 413, 422, 429),
)
async def complete_upload(
    session_id: Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    who: Writer,
    state: State,
) -> SessionPublic:
    """The presigned PUT is done: fetch the file from the archive and transcribe it."""
    session = await sessions.get(state.pool, who.owner_id, session_id)
    if session is None:
        raise NotFound("No such session.")
    key = (session.options or {}).get("upload_key")
    if not isinstance(key, str) or session.source != "upload":
        raise Conflict(
            "This session was not created by /v1/recordings/presign.", code="not_a_presigned_upload"
        )
    if not await store.claim_option(state.pool, who.owner_id, session.id, "upload_completed"):
        raise Conflict("This upload was already completed.", code="already_completed")
    path = await asyncio.to_thread(_fetch_upload, state.archive, key, state.settings)
    options = session.options or {}
    start_ingest(
        state,
        upload_start(
            who.owner_id, session.id, str(options.get("language", "en")), bool(options.get("diarize", True))
        ),
        path,
    )
    return session_public(session)
