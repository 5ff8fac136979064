"""The signed-in person: profile, password, and erasure of the whole account."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from gateway import auth
from gateway.api.deps import CurrentUser, Db, Reader, State
from gateway.api.erasure import erase_account
from gateway.api.schemas.auth import PasswordChange, UserPublic, UserUpdate
from gateway.api.schemas.common import error_responses
from gateway.errors import NotFound
from persistence.repositories import users

router = APIRouter(prefix="/v1/users", tags=["users"])


def _public(user: users.User) -> UserPublic:
    return UserPublic(id=user.id, email=user.email, name=user.name, created_at=user.created_at)


@router.get("/me", responses=error_responses(401, 403, 404, 429))
async def me(who: Reader, db: Db) -> UserPublic:
    user = await users.get(db, who.owner_id)
    if user is None:
        raise NotFound()
    return _public(user)


@router.patch("/me", responses=error_responses(401, 403, 404, 413, 422, 429))
async def update_me(body: UserUpdate, who: CurrentUser, db: Db) -> UserPublic:
    user = await users.update_name(db, who.owner_id, body.name)
    if user is None:
        raise NotFound()
    return _public(user)


@router.post(
    "/me/password", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 403, 413, 422, 429)
)
async def change_password(body: PasswordChange, who: CurrentUser, db: Db) -> Response:
    """Every refresh token is revoked: other devices must log in again."""
    await auth.change_password(db, who.owner_id, body.current_password, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/me", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 403, 429))
async def delete_me(who: CurrentUser, state: State) -> Response:
    """Erase the account: every session's rows, archived audio and bus messages, keys, webhooks, leads."""
    await erase_account(state, who.owner_id, actor=who.owner_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
