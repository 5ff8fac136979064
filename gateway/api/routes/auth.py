"""Sign-up, log-in, refresh-token rotation, log-out and short-lived streaming grants."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from gateway import auth
from gateway.api.audit import write_audit
from gateway.api.deps import ClientLimited, Db, Listener, Now, State
from gateway.api.schemas.auth import (
    GrantRequest,
    GrantToken,
    LoginRequest,
    RefreshRequest,
    SignupRequest,
    TokenPair,
)
from gateway.api.schemas.common import error_responses
from gateway.errors import Forbidden
from gateway.security import Scope, TokenKind, issue_token

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post(
    "/signup",
    status_code=status.HTTP_201_CREATED,
    dependencies=[ClientLimited],
    responses=error_responses(409, 413, 422, 429),
)
async def signup(body: SignupRequest, state: State, now: Now) -> TokenPair:
    """Create an account and sign in."""
    user = await auth.signup(state.pool, body.email, body.password, body.name)
    await write_audit(state.pool, user.id, actor=user.id, action="user.signup", target=f"user:{user.id}")
    return await auth.issue_token_pair(state.pool, state.settings.jwt_secret, user.id, now_s=now)


@router.post("/login", dependencies=[ClientLimited], responses=error_responses(401, 413, 422, 429))
async def login(body: LoginRequest, state: State, now: Now) -> TokenPair:
    user = await auth.login(state.pool, body.email, body.password)
    return await auth.issue_token_pair(state.pool, state.settings.jwt_secret, user.id, now_s=now)


@router.post("/refresh", dependencies=[ClientLimited], responses=error_responses(401, 413, 422, 429))
async def refresh(body: RefreshRequest, state: State, now: Now) -> TokenPair:
    """Exchange a refresh token for a new pair. Each refresh token works once; presenting a used one
    again revokes every token of its family (someone copied it)."""
    return await auth.rotate_refresh_token(
        state.pool, state.settings.jwt_secret, body.refresh_token, now_s=now
    )


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[ClientLimited],
    responses=error_responses(401, 413, 422, 429),
)
async def logout(body: RefreshRequest, db: Db) -> Response:
    await auth.logout(db, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/grant", responses=error_responses(401, 403, 413, 422, 429))
async def grant(who: Listener, state: State, now: Now, body: GrantRequest | None = None) -> GrantToken:
    """A short-lived token (≤ 600 s) with only the ``listen`` scope, for browsers and phones to open
    ``/v1/listen`` without holding a long-lived credential."""
    if who.kind == "grant":
        raise Forbidden("A grant cannot mint another grant.")
    ttl_s = (body or GrantRequest()).ttl_s
    token = issue_token(
        state.settings.jwt_secret,
        who.owner_id,
        kind=TokenKind.GRANT,
        scopes=frozenset({Scope.LISTEN.value}),
        ttl_s=ttl_s,
        now_s=now,
    )
    return GrantToken(access_token=token, expires_in=ttl_s)
