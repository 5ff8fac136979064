"""Signed download links for the ``file://`` archive (S3 archives hand out presigned URLs instead)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import FileResponse

from gateway.api.deps import State
from gateway.api.schemas.common import error_responses
from gateway.errors import Forbidden, NotFound
from persistence.archive.base import ArchiveNotFound
from persistence.archive.local import LocalArchive
from persistence.archive.signing import verify_signed_url

router = APIRouter(prefix="/v1/archive", tags=["archive"])

_MEDIA_TYPES = {"flac": "audio/flac", "wav": "audio/wav"}


@router.get(
    "/{session_id}",
    response_class=Response,
    responses={
        200: {"content": {"audio/flac": {}, "audio/wav": {}}, "description": "The session's audio"},
        **error_responses(403, 404, 422),
    },
)
async def download(
    session_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    state: State,
    expires: Annotated[int, Query(ge=0, le=2**40)],
    sig: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")],
) -> Response:
    """The link itself is the credential: ``expires`` (unix seconds) and ``sig`` (HMAC) from ``/audio``."""
    if not verify_signed_url(state.settings.url_signing_secret, session_id, expires, sig):
        raise Forbidden("The link is invalid or has expired.", code="invalid_signature")
    try:
        info = await asyncio.to_thread(state.archive.info, session_id)
        if info is None:
            raise ArchiveNotFound(session_id)
        headers = {
            "Content-Disposition": f'attachment; filename="{session_id}.{info.format}"',
            "Cache-Control": "private, max-age=60",
        }
        media_type = _MEDIA_TYPES.get(info.format, "application/octet-stream")
        if isinstance(state.archive, LocalArchive):
            # A file on disk: FileResponse streams it and honours Range (seeking in <audio>).
            path = await asyncio.to_thread(state.archive.path, session_id)
            return FileResponse(path, media_type=media_type, headers=headers)
        data = await asyncio.to_thread(state.archive.read, session_id)
    except ArchiveNotFound as exc:
        raise NotFound("This session has no archived audio.", code="audio_not_found") from exc
    return Response(data, media_type=media_type, headers=headers)
