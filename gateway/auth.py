"""Who is calling: API keys, access JWTs, listen grants, and the account flows that issue them
(sign-up, log-in, refresh-token rotation with reuse detection, log-out).

``authenticate`` is the one entry point for every credential, used by the REST API and by ``/v1/listen``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from gateway.errors import ApiError, Conflict
from gateway.security import (
    ACCESS_TOKEN_TTL_S,
    ALL_SCOPES,
    REFRESH_TOKEN_TTL_S,
    Scope,
    TokenError,
    TokenKind,
    decode_token,
    hash_password,
    issue_token,
    looks_like_api_key,
    new_api_key,
    new_refresh_token,
    secret_hash,
    verify_password,
)
from persistence.db import Db, Pool
from persistence.repositories import api_keys, refresh_tokens, users

if TYPE_CHECKING:
    from gateway.api.schemas.auth import ApiKeyPublic, TokenPair
    from gateway.state import GatewayState

LOCAL_OWNER_EMAIL = "owner@localhost"
_TOUCH_EVERY = timedelta(minutes=1)

PrincipalKind = Literal["api_key", "user", "grant"]


class AuthError(ApiError):
    """A credential was refused. ``code``: ``not_authenticated``, ``invalid_token``, ``token_expired``,
    ``invalid_api_key``, ``invalid_credentials``, ``invalid_refresh_token``, ``refresh_token_reused``."""

    status = 401
    code = "invalid_token"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code, headers={"WWW-Authenticate": 'Bearer realm="ayka"'})


@dataclass(frozen=True, slots=True)
class Principal:
    owner_id: str
    scopes: frozenset[str]
    kind: PrincipalKind
    key_id: str | None = None

    def has(self, scope: Scope | str) -> bool:
        return str(scope) in self.scopes or Scope.ADMIN in self.scopes


def _jwt_secret(state: GatewayState) -> str:
    secret = state.settings.jwt_secret
    if not secret:
        raise RuntimeError("AYKA_JWT_SECRET is empty; the gateway must set it before serving")
    return secret


async def authenticate(state: GatewayState, token: str, *, now_s: float | None = None) -> Principal:
    """An API key (``ayka_…``), an access JWT or a listen grant → the principal; else ``AuthError``."""
    token = token.strip()
    if not token:
        raise AuthError("not_authenticated", "No credential was sent.")
    if looks_like_api_key(token):
        key = await api_keys.find_active_by_hash(state.pool, secret_hash(token))
        if key is None:
            raise AuthError("invalid_api_key", "The API key is unknown or has been revoked.")
        if key.last_used_at is None or datetime.now(UTC) - key.last_used_at > _TOUCH_EVERY:
            await api_keys.touch(state.pool, key.id)
        return Principal(key.owner_id, frozenset(key.scopes) & ALL_SCOPES, "api_key", key.id)
    try:
        claims = decode_token(_jwt_secret(state), token, now_s=now_s)
    except TokenError as exc:
        raise AuthError(exc.code, exc.message) from exc
    if await users.get(state.pool, claims.subject) is None:
        raise AuthError("invalid_token", "The account of this token no longer exists.")
    if claims.kind is TokenKind.GRANT:
        return Principal(claims.subject, frozenset({Scope.LISTEN.value}), "grant")
    return Principal(claims.subject, frozenset(s.value for s in Scope), "user")


# ---------------------------------------------------------------- API keys


def api_key_public(key: api_keys.ApiKey) -> ApiKeyPublic:
    from gateway.api.schemas.auth import ApiKeyPublic  # the API package imports this module

    return ApiKeyPublic(
        id=key.id,
        name=key.name,
        scopes=[Scope(s) for s in key.scopes if s in ALL_SCOPES],
        prefix=key.prefix,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
    )


async def create_api_key(
    pool: Db, owner_id: str, name: str, scopes: list[Scope] | list[str] | frozenset[str]
) -> tuple[ApiKeyPublic, str]:
    """Create a key; returns its public view and the plaintext (shown once, stored only as a hash)."""
    wanted = sorted({Scope(s).value for s in scopes})
    plaintext, prefix = new_api_key()
    key = await api_keys.create(pool, owner_id, name, prefix, secret_hash(plaintext), wanted)
    return api_key_public(key), plaintext


async def ensure_local_user(pool: Pool) -> str:
    """The single-machine "owner" account the CLI acts as (no password can log in to it)."""
    existing = await users.get_by_email(pool, LOCAL_OWNER_EMAIL)
    if existing is not None:
        return existing.id
    unusable = await hash_password(secrets.token_urlsafe(32))
    try:
        return (await users.create(pool, LOCAL_OWNER_EMAIL, unusable, name="Owner")).id
    except users.EmailTaken:  # created concurrently
        again = await users.get_by_email(pool, LOCAL_OWNER_EMAIL)
        assert again is not None
        return again.id


# ---------------------------------------------------------------- account flows


async def issue_token_pair(
    pool: Db, jwt_secret: str, user_id: str, *, family_id: str | None = None, now_s: float | None = None
) -> TokenPair:
    from gateway.api.schemas.auth import TokenPair  # the API package imports this module

    now = now_s if now_s is not None else time.time()
    refresh = new_refresh_token()
    await refresh_tokens.issue(
        pool,
        user_id,
        family_id or secrets.token_hex(16),
        secret_hash(refresh),
        datetime.fromtimestamp(now, UTC) + timedelta(seconds=REFRESH_TOKEN_TTL_S),
    )
    access = issue_token(
        jwt_secret, user_id, kind=TokenKind.ACCESS, scopes=ALL_SCOPES, ttl_s=ACCESS_TOKEN_TTL_S, now_s=now
    )
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=ACCESS_TOKEN_TTL_S)


async def signup(pool: Pool, email: str, password: str, name: str) -> users.User:
    try:
        return await users.create(pool, email, await hash_password(password), name=name)
    except users.EmailTaken as exc:
        raise Conflict("An account with this email already exists.", code="email_taken") from exc


async def login(pool: Pool, email: str, password: str) -> users.User:
    user = await users.get_by_email(pool, email)
    ok = await verify_password(user.password_hash if user else None, password)
    if user is None or not ok or user.email.lower() == LOCAL_OWNER_EMAIL:
        raise AuthError("invalid_credentials", "Email or password is wrong.")
    return user


async def rotate_refresh_token(
    pool: Pool, jwt_secret: str, token: str, *, now_s: float | None = None
) -> TokenPair:
    """Consume ``token`` and issue the next pair of its family. Presenting a used (or revoked) token
    again is reuse: someone else holds a copy, so the whole family is revoked."""
    found = await refresh_tokens.find_by_hash(pool, secret_hash(token))
    if found is None:
        raise AuthError("invalid_refresh_token", "The refresh token is unknown.")
    if found.used_at is not None or found.revoked_at is not None:
        await refresh_tokens.revoke_family(pool, found.user_id, found.family_id)
        raise AuthError(
            "refresh_token_reused",
            "This refresh token was already used; every session of it is now logged out.",
        )
    if found.expires_at <= datetime.now(UTC):
        raise AuthError("refresh_token_expired", "The refresh token has expired; log in again.")
    # False: lost a race with another use of the same token.
    if not await refresh_tokens.mark_used(pool, found.user_id, found.id):
        await refresh_tokens.revoke_family(pool, found.user_id, found.family_id)
        raise AuthError("refresh_token_reused", "This refresh token was already used; log in again.")
    return await issue_token_pair(pool, jwt_secret, found.user_id, family_id=found.family_id, now_s=now_s)


async def logout(pool: Pool, token: str) -> None:
    found = await refresh_tokens.find_by_hash(pool, secret_hash(token))
    if found is None:
        raise AuthError("invalid_refresh_token", "The refresh token is unknown.")
    await refresh_tokens.revoke_family(pool, found.user_id, found.family_id)


async def change_password(pool: Pool, user_id: str, current: str, new: str) -> None:
    """Checks the current password, stores the new hash, and logs out every refresh-token family."""
    user = await users.get(pool, user_id)
    if user is None or not await verify_password(user.password_hash, current):
        raise AuthError("invalid_credentials", "The current password is wrong.")
    await users.update_password(pool, user_id, await hash_password(new))
    await refresh_tokens.revoke_all_for_user(pool, user_id)
