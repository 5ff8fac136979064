"""Every account flow through the real API: sign-up, log-in, refresh rotation and reuse detection,
expiry (time moved through ``app.state.clock``), log-out, password change, API keys and grants."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import jwt
from fastapi import FastAPI

from gateway.auth import AuthError, authenticate, create_api_key, ensure_local_user
from gateway.security import ACCESS_TOKEN_TTL_S
from persistence.db import Pool
from tests.gateway.api.fixtures import PASSWORD, api, app, client, signup

__all__ = ["api", "app", "client"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text
    assert response.json()["error"]["message"]


async def test_signup_login_and_wrong_password(client: httpx.AsyncClient) -> None:
    person = await signup(client, "login")
    ok = await client.post("/v1/auth/login", json={"email": person.email.upper(), "password": PASSWORD})
    assert ok.status_code == 200
    assert ok.json()["token_type"] == "bearer" and ok.json()["expires_in"] == ACCESS_TOKEN_TTL_S
    wrong = await client.post("/v1/auth/login", json={"email": person.email, "password": "not the password"})
    assert_error(wrong, 401, "invalid_credentials")
    nobody = await client.post("/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert_error(nobody, 401, "invalid_credentials")
    again = await client.post("/v1/auth/signup", json={"email": person.email, "password": PASSWORD})
    assert_error(again, 409, "email_taken")
    short = await client.post("/v1/auth/signup", json={"email": "x@example.com", "password": "short"})
    assert_error(short, 422, "validation_error")
    extra = await client.post(
        "/v1/auth/login", json={"email": person.email, "password": PASSWORD, "admin": True}
    )
    assert_error(extra, 422, "validation_error")


async def test_stored_password_is_argon2id(client: httpx.AsyncClient, db_pool: Pool) -> None:
    person = await signup(client, "hash")
    stored = await db_pool.fetchval("SELECT password_hash FROM users WHERE id = $1", person.id)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in stored


async def test_refresh_rotates_and_reuse_revokes_the_family(client: httpx.AsyncClient) -> None:
    person = await signup(client, "rotate")
    first = await client.post("/v1/auth/refresh", json={"refresh_token": person.refresh_token})
    assert first.status_code == 200
    second_token = first.json()["refresh_token"]
    assert second_token != person.refresh_token
    # The first token again: reuse. The whole family dies, including the token just issued.
    reused = await client.post("/v1/auth/refresh", json={"refresh_token": person.refresh_token})
    assert_error(reused, 401, "refresh_token_reused")
    after = await client.post("/v1/auth/refresh", json={"refresh_token": second_token})
    assert_error(after, 401, "refresh_token_reused")
    unknown = await client.post("/v1/auth/refresh", json={"refresh_token": "never-issued"})
    assert_error(unknown, 401, "invalid_refresh_token")


async def test_two_families_are_independent(client: httpx.AsyncClient) -> None:
    person = await signup(client, "families")
    other = (await client.post("/v1/auth/login", json={"email": person.email, "password": PASSWORD})).json()
    await client.post("/v1/auth/refresh", json={"refresh_token": person.refresh_token})
    await client.post(
        "/v1/auth/refresh", json={"refresh_token": person.refresh_token}
    )  # reuse: family 1 dies
    still = await client.post("/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert still.status_code == 200


async def test_expired_refresh_token(client: httpx.AsyncClient, db_pool: Pool) -> None:
    person = await signup(client, "expired-refresh")
    await db_pool.execute(
        "UPDATE refresh_tokens SET expires_at = $2 WHERE user_id = $1",
        person.id,
        datetime.now(UTC) - timedelta(1),
    )
    response = await client.post("/v1/auth/refresh", json={"refresh_token": person.refresh_token})
    assert_error(response, 401, "refresh_token_expired")


async def test_access_token_expires_after_15_minutes(client: httpx.AsyncClient, app: FastAPI) -> None:
    person = await signup(client, "expiry")
    real_clock = app.state.clock
    try:
        app.state.clock = lambda: time.time() + ACCESS_TOKEN_TTL_S - 5
        assert (await client.get("/v1/users/me", headers=person.headers)).status_code == 200
        app.state.clock = lambda: time.time() + ACCESS_TOKEN_TTL_S + 1
        assert_error(await client.get("/v1/users/me", headers=person.headers), 401, "token_expired")
    finally:
        app.state.clock = real_clock


async def test_forged_and_malformed_tokens(client: httpx.AsyncClient, app: FastAPI) -> None:
    person = await signup(client, "forged")
    claims = jwt.decode(person.access_token, options={"verify_signature": False})
    forged = jwt.encode(claims, "not-our-secret-but-long-enough-for-hs256", algorithm="HS256")
    assert_error(await client.get("/v1/users/me", headers=bearer(forged)), 401, "invalid_token")
    none_alg = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    assert_error(await client.get("/v1/users/me", headers=bearer(none_alg)), 401, "invalid_token")
    assert_error(await client.get("/v1/users/me", headers=bearer("garbage")), 401, "invalid_token")
    assert_error(await client.get("/v1/users/me"), 401, "not_authenticated")
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert_error(await client.get("/v1/users/me", headers=basic), 401, "not_authenticated")


async def test_logout_revokes_the_refresh_token(client: httpx.AsyncClient) -> None:
    person = await signup(client, "logout")
    out = await client.post("/v1/auth/logout", json={"refresh_token": person.refresh_token})
    assert out.status_code == 204
    refreshed = await client.post("/v1/auth/refresh", json={"refresh_token": person.refresh_token})
    assert_error(refreshed, 401, "refresh_token_reused")


async def test_change_password(client: httpx.AsyncClient) -> None:
    person = await signup(client, "password")
    body = {"current_password": "wrong wrong wrong", "new_password": "a brand new password"}
    assert_error(await client.post("/v1/users/me/password", json=body, headers=person.headers), 401,
                 "invalid_credentials")  # fmt: skip
    body["current_password"] = PASSWORD
    assert (await client.post("/v1/users/me/password", json=body, headers=person.headers)).status_code == 204
    old = await client.post("/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    assert_error(old, 401, "invalid_credentials")
    new = await client.post(
        "/v1/auth/login", json={"email": person.email, "password": "a brand new password"}
    )
    assert new.status_code == 200
    # Every refresh token issued before the change is revoked.
    stale = await client.post("/v1/auth/refresh", json={"refresh_token": person.refresh_token})
    assert stale.status_code == 401


async def test_api_keys_create_list_scopes_revoke(client: httpx.AsyncClient) -> None:
    person = await signup(client, "keys")
    created = await client.post(
        "/v1/api-keys", json={"name": "ci", "scopes": ["listen", "read"]}, headers=person.headers
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("ayka_") and created.json()["prefix"] == key[:11]
    listed = await client.get("/v1/api-keys", headers=person.headers)
    assert [k["id"] for k in listed.json()["items"]] == [created.json()["id"]]
    assert "key" not in listed.json()["items"][0]
    as_key = {"Authorization": f"Token {key}"}
    assert (await client.get("/v1/sessions", headers=as_key)).status_code == 200
    # read-only key: writes and key management are refused with 403.
    assert_error(await client.get("/v1/api-keys", headers=as_key), 403, "insufficient_scope")
    assert_error(
        await client.post(
            "/v1/webhooks",
            json={"url": "https://example.com/h", "event_types": ["lead.finalized"]},
            headers=as_key,
        ),
        403,
        "insufficient_scope",
    )
    revoked = await client.delete(f"/v1/api-keys/{created.json()['id']}", headers=person.headers)
    assert revoked.status_code == 204
    assert_error(await client.get("/v1/sessions", headers=as_key), 401, "invalid_api_key")
    assert (await client.get("/v1/api-keys", headers=person.headers)).json()["items"] == []
    assert_error(await client.delete("/v1/api-keys/key_missing", headers=person.headers), 404, "not_found")


async def test_key_hash_only_in_database(client: httpx.AsyncClient, db_pool: Pool) -> None:
    person = await signup(client, "keyhash")
    created = (await client.post("/v1/api-keys", json={"name": "x"}, headers=person.headers)).json()
    stored = await db_pool.fetchrow("SELECT * FROM api_keys WHERE id = $1", created["id"])
    assert stored is not None and created["key"] not in str(dict(stored))
    assert sorted(created["scopes"]) == ["listen", "read"]


async def test_grant_token_only_listens(client: httpx.AsyncClient, app: FastAPI) -> None:
    person = await signup(client, "grant")
    grant = await client.post("/v1/auth/grant", json={"ttl_s": 60}, headers=person.headers)
    assert grant.status_code == 200
    body = grant.json()
    assert body["scope"] == "listen" and body["expires_in"] == 60
    principal = await authenticate(app.state.gateway, body["access_token"])
    assert principal.kind == "grant" and principal.scopes == frozenset({"listen"})
    assert principal.owner_id == person.id
    # A grant opens /v1/listen only: the REST API refuses it.
    assert_error(
        await client.get("/v1/sessions", headers=bearer(body["access_token"])), 403, "insufficient_scope"
    )
    too_long = await client.post("/v1/auth/grant", json={"ttl_s": 601}, headers=person.headers)
    assert_error(too_long, 422, "validation_error")
    default = await client.post("/v1/auth/grant", headers=person.headers)
    assert default.json()["expires_in"] == 600
    try:
        await authenticate(app.state.gateway, body["access_token"], now_s=time.time() + 61)
        raise AssertionError("an expired grant was accepted")
    except AuthError as exc:
        assert exc.code == "token_expired"


async def test_cli_helpers(app: FastAPI) -> None:
    state = app.state.gateway
    owner = await ensure_local_user(state.pool)
    assert owner == await ensure_local_user(state.pool)
    public, plaintext = await create_api_key(state.pool, owner, "cli", ["listen"])
    principal = await authenticate(state, plaintext)
    assert principal == type(principal)(owner, frozenset({"listen"}), "api_key", public.id)


async def test_delete_account_invalidates_tokens(client: httpx.AsyncClient) -> None:
    person = await signup(client, "goodbye")
    key = (await client.post("/v1/api-keys", json={"name": "k"}, headers=person.headers)).json()["key"]
    assert (await client.delete("/v1/users/me", headers=person.headers)).status_code == 204
    assert_error(await client.get("/v1/users/me", headers=person.headers), 401, "invalid_token")
    assert_error(
        await client.get("/v1/sessions", headers={"Authorization": f"Token {key}"}), 401, "invalid_api_key"
    )
    login = await client.post("/v1/auth/login", json={"email": person.email, "password": PASSWORD})
    assert_error(login, 401, "invalid_credentials")
