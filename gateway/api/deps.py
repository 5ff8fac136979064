"""Dependencies as ``Annotated`` aliases, so a route's signature reads as prose:
``async def get_session(session_id: str, who: Reader, db: Db) -> SessionPublic``."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from gateway.auth import AuthError, Principal, authenticate
from gateway.errors import Forbidden
from gateway.observability import add_response_headers
from gateway.ratelimit import hit, identity_key, raise_if_limited
from gateway.security import Scope

if TYPE_CHECKING:
    from gateway.state import GatewayState
    from persistence.db import Pool

# Unauthenticated routes (sign-up, log-in, refresh) are limited per client address, tighter than the rest.
AUTH_LIMIT_DIVISOR = 10
AUTH_LIMIT_MIN = 20


def get_state(request: Request) -> Any:
    return request.app.state.gateway


def get_pool(request: Request) -> Any:
    return request.app.state.gateway.pool


def get_now(request: Request) -> float:
    """Seconds since the epoch; tests replace ``app.state.clock`` to move time."""
    clock: Callable[[], float] = getattr(request.app.state, "clock", time.time)
    return clock()


State = Annotated["GatewayState", Depends(get_state)]
Db = Annotated["Pool", Depends(get_pool)]
Now = Annotated[float, Depends(get_now)]


_AUTHORIZATION = APIKeyHeader(
    name="Authorization",
    scheme_name="Authorization",
    description="`Bearer <access token>` (people) or `Token <API key>` (scripts).",
    auto_error=False,
)


def bearer_token(header: Annotated[str | None, Security(_AUTHORIZATION)] = None) -> str:
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() in {"bearer", "token"} and value.strip():
        return value.strip()
    raise AuthError("not_authenticated", "Send Authorization: Bearer <access token> or Token <API key>.")


Credential = Annotated[str, Depends(bearer_token)]


async def current_principal(token: Credential, state: State, now: Now) -> Principal:
    principal = await authenticate(state, token, now_s=now)
    if principal.kind == "api_key":
        key = identity_key("key", principal.key_id or principal.owner_id)
    else:
        key = identity_key("user", principal.owner_id)
    decision = await hit(state.js, key, state.settings.rate_limit_per_minute)
    add_response_headers(decision.headers())
    raise_if_limited(decision, "principal")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(scope: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has(scope):
            raise Forbidden(f"This credential lacks the {scope.value!r} scope.")
        return principal

    return check


async def current_user(principal: CurrentPrincipal) -> Principal:
    """A person signed in (access JWT): account settings are not for API keys or grants."""
    if principal.kind != "user":
        raise Forbidden("Only a signed-in person (access token) may do this.", code="user_token_required")
    return principal


Reader = Annotated[Principal, Depends(require(Scope.READ))]
Writer = Annotated[Principal, Depends(require(Scope.WRITE))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]
Listener = Annotated[Principal, Depends(require(Scope.LISTEN))]
CurrentUser = Annotated[Principal, Depends(current_user)]


async def client_rate_limit(request: Request, state: State) -> None:
    """For routes without a credential yet: a limit per client address (slows password guessing)."""
    limit = max(AUTH_LIMIT_MIN, state.settings.rate_limit_per_minute // AUTH_LIMIT_DIVISOR)
    address = request.client.host if request.client else "unknown"
    decision = await hit(state.js, identity_key("ip", address), limit)
    add_response_headers(decision.headers())
    raise_if_limited(decision, "client")


ClientLimited = Depends(client_rate_limit)
