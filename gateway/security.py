"""Cryptographic building blocks: password hashing, JWTs, opaque secrets, and the Origin allowlist.

Nothing here touches the database; ``gateway.auth`` combines these with the stored rows.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ayka.settings import Settings

ACCESS_TOKEN_TTL_S = 15 * 60
REFRESH_TOKEN_TTL_S = 30 * 24 * 3600
GRANT_MAX_TTL_S = 600
JWT_ALGORITHM = "HS256"
JWT_ISSUER = "ayka"
API_KEY_PREFIX = "ayka_"
WEBHOOK_SECRET_PREFIX = "whsec_"

# OWASP's argon2id minimum (m=19 MiB, t=2, p=1).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16)
# A real hash to verify against when the email is unknown, so timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash("ayka-timing-equalizer")


class Scope(enum.StrEnum):
    LISTEN = "listen"
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


ALL_SCOPES = frozenset(Scope)


class TokenKind(enum.StrEnum):
    ACCESS = "access"  # a person's session, 15 minutes
    GRANT = "grant"  # a short-lived streaming token for browsers and phones


class TokenError(Exception):
    """A JWT that is malformed, forged, expired, or of the wrong kind. ``code`` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str  # the user id
    kind: TokenKind
    scopes: frozenset[str]
    issued_at_s: int
    expires_at_s: int
    token_id: str


# ---------------------------------------------------------------- passwords


async def hash_password(password: str) -> str:
    """argon2id in a thread: hashing costs ~20-50 ms of CPU and must not block the event loop."""
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """True iff ``password`` matches; a ``None`` hash (no such user) still costs one verification."""
    return await asyncio.to_thread(_verify, stored_hash, password)


# ---------------------------------------------------------------- opaque secrets


def new_id() -> str:
    """Ids are 32 hex characters: valid as bus subject tokens and URL segments."""
    return uuid.uuid4().hex


def secret_hash(secret: str) -> str:
    """API keys and refresh tokens carry 256 random bits, so one SHA-256 is a safe way to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key() -> tuple[str, str]:
    """(plaintext key, display prefix). The prefix is public: it names the key in lists."""
    body = secrets.token_urlsafe(32)
    key = f"{API_KEY_PREFIX}{body}"
    return key, key[: len(API_KEY_PREFIX) + 6]


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def new_webhook_secret() -> str:
    # Standard Webhooks: whsec_ + base64 of 24 random bytes.
    import base64

    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def looks_like_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


# ---------------------------------------------------------------- JWTs


def issue_token(
    secret: str,
    subject: str,
    *,
    kind: TokenKind,
    scopes: frozenset[str],
    ttl_s: int,
    now_s: float | None = None,
) -> str:
    issued = int(now_s if now_s is not None else time.time())
    claims: dict[str, Any] = {
        "iss": JWT_ISSUER,
        "sub": subject,
        "typ": kind.value,
        "scope": " ".join(sorted(scopes)),
        "iat": issued,
        "exp": issued + ttl_s,
        "jti": new_id(),
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


def decode_token(secret: str, token: str, *, now_s: float | None = None) -> TokenClaims:
    """Check signature, issuer, kind and expiry (against ``now_s``, so tests can move time)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"verify_exp": False, "require": ["exp", "iat", "sub", "typ", "iss"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenError("invalid_token", "The token is malformed or its signature is wrong.") from exc
    try:
        kind = TokenKind(claims["typ"])
        expires = int(claims["exp"])
        issued = int(claims["iat"])
        subject = str(claims["sub"])
    except (ValueError, TypeError) as exc:
        raise TokenError("invalid_token", "The token's claims are not valid.") from exc
    now = now_s if now_s is not None else time.time()
    if now >= expires:
        raise TokenError("token_expired", "The token has expired; refresh it or log in again.")
    scopes = frozenset(str(claims.get("scope", "")).split()) & ALL_SCOPES
    return TokenClaims(subject, kind, scopes, issued, expires, str(claims.get("jti", "")))


# ---------------------------------------------------------------- origins


def _normalize_origin(origin: str) -> str:
    parts = urlsplit(origin.strip().lower())
    if not parts.scheme or not parts.hostname:
        return origin.strip().lower()
    default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def origin_allowed(settings: Settings, origin: str | None) -> bool:
    """May a WebSocket from a page at ``origin`` open ``/v1/listen``?

    No Origin header means a non-browser client (SDKs, scripts), which authenticates by token anyway.
    Browsers are allowed from the gateway's own origin, from ``ws_allowed_origins`` (``*`` allows all),
    and from ``cors_origins``.
    """
    if origin is None or origin == "":
        return True
    allowed = [*settings.ws_allowed_origins, *settings.cors_origins]
    if "*" in allowed:
        return True
    wanted = _normalize_origin(origin)
    own = {_normalize_origin(settings.gateway_url)}
    if settings.host in {"127.0.0.1", "localhost", "0.0.0.0"}:
        own |= {_normalize_origin(f"http://{h}:{settings.port}") for h in ("127.0.0.1", "localhost")}
    return wanted in own or wanted in {_normalize_origin(item) for item in allowed}


def constant_time_equal(a: str, b: str) -> bool:
    return secrets.compare_digest(a.encode(), b.encode())
