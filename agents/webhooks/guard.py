"""SSRF guard: a webhook URL must be http(s) and every address its host resolves to must be public.

Private, loopback, link-local (cloud metadata at 169.254.169.254), multicast, reserved and unspecified
addresses are refused unless ``AYKA_WEBHOOK_ALLOW_PRIVATE=true``. The check runs when an endpoint is
saved and again before every attempt (DNS can change between the two).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Awaitable[list[str]]]


class UnsafeTarget(ValueError):
    """The URL is not a deliverable public http(s) target; the message says why."""


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _why_not_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _why_not_public(address.ipv4_mapped)
    for reason in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{reason}"):
            return reason.replace("_", "-")
    if not address.is_global:
        return "not global"
    return None


async def check_target(url: str, *, allow_private: bool, resolver: Resolver | None = None) -> list[str]:
    """The addresses the URL's host resolves to; ``UnsafeTarget`` when any of them may not be called."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise UnsafeTarget(f"scheme must be http or https, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeTarget("credentials in the URL are not allowed")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeTarget(f"bad port: {exc}") from None
    host = parts.hostname
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = await (resolver or resolve)(host, port)
        except (OSError, UnicodeError) as exc:
            raise UnsafeTarget(f"{host} does not resolve ({exc})") from None
    if not addresses:
        raise UnsafeTarget(f"{host} does not resolve")
    if not allow_private:
        for address in addresses:
            reason = _why_not_public(ipaddress.ip_address(address))
            if reason:
                raise UnsafeTarget(f"{host} resolves to {address} ({reason})")
    return addresses
