"""Accounts, tokens and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field

from gateway.api.schemas.common import StrictModel
from gateway.security import GRANT_MAX_TTL_S, Scope

PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # argon2 hashes anything, but an unbounded field is a CPU lever


class SignupRequest(StrictModel):
    email: EmailStr
    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
    name: str = Field("", max_length=200)


class LoginRequest(StrictModel):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class RefreshRequest(StrictModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class GrantRequest(StrictModel):
    ttl_s: int = Field(GRANT_MAX_TTL_S, ge=1, le=GRANT_MAX_TTL_S)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int  # seconds the access token lives


class GrantToken(BaseModel):
    access_token: str
    expires_in: int
    scope: Literal["listen"] = "listen"


class UserPublic(BaseModel):
    id: str
    email: str
    name: str
    created_at: datetime


class UserUpdate(StrictModel):
    name: str = Field(max_length=200)


class PasswordChange(StrictModel):
    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    new_password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class ApiKeyCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(default_factory=lambda: [Scope.LISTEN, Scope.READ], max_length=4)


class ApiKeyPublic(BaseModel):
    id: str
    name: str
    scopes: list[Scope]
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None


class ApiKeyCreated(ApiKeyPublic):
    key: str  # shown once


class ApiKeyList(BaseModel):
    items: list[ApiKeyPublic]
