"""The SSRF guard (ayka.netguard): at send time (delivery worker) and at save time (the gateway)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from nats.aio.client import Client as NATS

from ayka.netguard import Resolver, UnsafeTarget, check_saved_url, check_target, resolve
from tests.gateway.api.fixtures import make_settings, running, signup


def fixed(addresses: list[str]) -> Resolver:
    async def resolver(host: str, port: int) -> list[str]:
        return addresses

    return resolver


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8000/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://192.168.0.10/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("ftp://example.com/hook", "scheme"),
        ("http:///nohost", "no host"),
        ("http://user:pw@93.184.216.34/", "credentials"),
    ],
)
async def test_refused_targets(url: str, reason: str) -> None:
    with pytest.raises(UnsafeTarget, match=reason):
        await check_target(url, allow_private=False)


async def test_every_resolved_address_is_checked() -> None:
    resolver = fixed(["93.184.216.34", "10.0.0.5"])  # one public, one private: refused
    with pytest.raises(UnsafeTarget, match=r"10\.0\.0\.5"):
        await check_target("https://hooks.example.com/x", allow_private=False, resolver=resolver)
    public = fixed(["93.184.216.34"])
    assert await check_target("https://hooks.example.com/x", allow_private=False, resolver=public) == [
        "93.184.216.34"
    ]


async def test_unresolvable_host_is_refused() -> None:
    async def fail(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(UnsafeTarget, match="does not resolve"):
        await check_target("https://nowhere.invalid/", allow_private=False, resolver=fail)


async def test_private_targets_are_allowed_when_configured() -> None:
    assert await check_target("http://127.0.0.1:9/hook", allow_private=True) == ["127.0.0.1"]
    with pytest.raises(UnsafeTarget):
        await check_target("file:///etc/passwd", allow_private=True)


# --- at save time (the gateway's POST/PATCH /v1/webhooks use check_saved_url)


async def test_a_name_that_resolves_to_loopback_is_refused_at_save_time() -> None:
    with pytest.raises(UnsafeTarget, match=r"127\.0\.0\.1 \(loopback\)"):
        await check_saved_url(
            "https://hooks.example.com/in", allow_private=False, resolver=fixed(["127.0.0.1"])
        )
    with pytest.raises(UnsafeTarget, match="loopback"):
        await check_saved_url("http://localhost:9/x", allow_private=False)  # the system resolver
    with pytest.raises(UnsafeTarget, match="link-local"):
        await check_saved_url("http://169.254.169.254/latest", allow_private=False)


async def test_save_time_accepts_public_and_not_yet_resolvable_hosts() -> None:
    async def fail(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    async def hang(host: str, port: int) -> list[str]:
        await asyncio.sleep(60)
        return []

    public = fixed(["93.184.216.34"])
    await check_saved_url("https://hooks.example.com/in", allow_private=False, resolver=public)
    # DNS not live yet (or slow): accepted now, refused at send time by check_target if still private.
    await check_saved_url("https://new.example.com/in", allow_private=False, resolver=fail)
    await check_saved_url("https://slow.example.com/in", allow_private=False, resolver=hang, timeout_s=0.05)
    await check_saved_url("http://localhost:9/x", allow_private=True)  # AYKA_WEBHOOK_ALLOW_PRIVATE
    with pytest.raises(UnsafeTarget, match="scheme"):
        await check_saved_url("ftp://example.com/x", allow_private=True)


@pytest.fixture
async def api(
    tmp_path: Path, database_url: str, nats_url: str, nc: NATS
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running(make_settings(tmp_path, database_url, nats_url)) as pair:
        yield pair


async def test_the_api_refuses_a_host_that_resolves_to_a_private_address(
    api: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _app, client = api
    person = await signup(client, "guard")
    hostname = socket.gethostname()  # resolves through the system resolver (/etc/hosts) to this machine
    try:
        own = await resolve(hostname, 80)
    except OSError:
        own = []
    urls = ["http://localhost:9/x", "http://localhost./x"]
    if own and all(not ipaddress.ip_address(a).is_global for a in own):
        urls.append(f"http://{hostname}:9/x")
    for url in urls:
        body = {"url": url, "event_types": ["lead.finalized"]}
        refused = await client.post("/v1/webhooks", json=body, headers=person.headers)
        assert refused.status_code == 422, (url, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "webhook_url_not_allowed" and "public host" in error["message"], error
    created = await client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.example.com/in", "event_types": ["lead.finalized"]},
        headers=person.headers,
    )
    assert created.status_code == 201, created.text  # unresolvable here (no DNS) or public: accepted
    patched = await client.patch(
        f"/v1/webhooks/{created.json()['id']}", json={"url": "http://localhost:9/x"}, headers=person.headers
    )
    assert patched.status_code == 422 and patched.json()["error"]["code"] == "webhook_url_not_allowed"
