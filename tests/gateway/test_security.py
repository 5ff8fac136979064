"""Password hashing, JWTs and the WebSocket Origin allowlist."""

from __future__ import annotations

import time

import pytest

from ayka.settings import Settings
from gateway.security import (
    TokenError,
    TokenKind,
    decode_token,
    hash_password,
    issue_token,
    origin_allowed,
    verify_password,
)

SECRET = "s" * 40


async def test_password_hash_roundtrip() -> None:
    stored = await hash_password("pässwörd")
    assert stored.startswith("$argon2id$")
    assert await verify_password(stored, "pässwörd")
    assert not await verify_password(stored, "password")
    assert not await verify_password(None, "anything")
    assert not await verify_password("not-a-hash", "anything")


def test_tokens_carry_kind_scope_and_expire() -> None:
    now = time.time()
    token = issue_token(
        SECRET, "usr_1", kind=TokenKind.GRANT, scopes=frozenset({"listen"}), ttl_s=60, now_s=now
    )
    claims = decode_token(SECRET, token, now_s=now + 59)
    assert (claims.subject, claims.kind, claims.scopes) == ("usr_1", TokenKind.GRANT, frozenset({"listen"}))
    with pytest.raises(TokenError) as expired:
        decode_token(SECRET, token, now_s=now + 60)
    assert expired.value.code == "token_expired"
    with pytest.raises(TokenError) as forged:
        decode_token("another-secret-that-is-long-enough-xx", token, now_s=now)
    assert forged.value.code == "invalid_token"


def test_origin_allowlist(tmp_path: object) -> None:
    settings = Settings(ws_allowed_origins="https://app.example.com, http://localhost:3000")
    assert origin_allowed(settings, None)  # SDKs and scripts send no Origin
    assert origin_allowed(settings, "https://app.example.com")
    assert origin_allowed(settings, "https://APP.example.com:443")
    assert origin_allowed(settings, "http://localhost:3000")
    assert origin_allowed(settings, "http://127.0.0.1:8000")  # the gateway's own web UI
    assert not origin_allowed(settings, "https://evil.example")
    assert not origin_allowed(settings, "http://app.example.com")  # scheme matters
    assert not origin_allowed(settings, "null")
    assert origin_allowed(Settings(ws_allowed_origins="*"), "https://anything.example")
