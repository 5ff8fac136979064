from __future__ import annotations

import pytest

from agents.webhooks.guard import Resolver, UnsafeTarget, check_target


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
