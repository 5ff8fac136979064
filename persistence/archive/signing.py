"""Signed download URLs for the ``file://`` archive, served by the gateway at ``/v1/archive/{session}``."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote

ARCHIVE_PATH = "/v1/archive/"


def _signature(secret: str, session_id: str, expires: int) -> str:
    message = f"{session_id}\n{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_url(public_base_url: str, secret: str, session_id: str, ttl_s: int, now: float | None = None) -> str:
    """``{base}/v1/archive/{session}?expires=<unix s>&sig=<hex HMAC-SHA256>``."""
    if not secret:
        raise ValueError("a URL signing secret is needed for file:// archive download links")
    expires = int((time.time() if now is None else now) + ttl_s)
    sig = _signature(secret, session_id, expires)
    return (
        f"{public_base_url.rstrip('/')}{ARCHIVE_PATH}{quote(session_id, safe='')}?expires={expires}&sig={sig}"
    )


def verify_signed_url(
    secret: str, session_id: str, expires: str | int, sig: str, now: float | None = None
) -> bool:
    """True when ``sig`` was made by ``sign_url`` for this session and ``expires`` has not passed."""
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        return False
    if not secret or expires_at < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(_signature(secret, session_id, expires_at), sig)
