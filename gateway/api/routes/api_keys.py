"""API keys for scripts and servers: created (the key is shown once), listed, revoked."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from gateway import auth
from gateway.api.audit import write_audit
from gateway.api.deps import Admin, Db
from gateway.api.schemas.auth import ApiKeyCreate, ApiKeyCreated, ApiKeyList
from gateway.api.schemas.common import error_responses
from gateway.errors import NotFound
from persistence.repositories import api_keys

router = APIRouter(prefix="/v1/api-keys", tags=["api-keys"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(401, 403, 413, 422, 429))
async def create_key(body: ApiKeyCreate, who: Admin, db: Db) -> ApiKeyCreated:
    public, plaintext = await auth.create_api_key(db, who.owner_id, body.name, body.scopes)
    await write_audit(
        db, who.owner_id, actor=who.key_id or who.owner_id, action="api_key.create", target=public.id
    )
    return ApiKeyCreated(**public.model_dump(), key=plaintext)


@router.get("", responses=error_responses(401, 403, 429))
async def list_keys(who: Admin, db: Db) -> ApiKeyList:
    return ApiKeyList(items=[auth.api_key_public(k) for k in await api_keys.list_for_owner(db, who.owner_id)])


@router.delete(
    "/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 403, 404, 429)
)
async def revoke_key(key_id: str, who: Admin, db: Db) -> Response:
    if not await api_keys.revoke(db, who.owner_id, key_id):
        raise NotFound("No such API key.")
    await write_audit(
        db, who.owner_id, actor=who.key_id or who.owner_id, action="api_key.revoke", target=key_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
