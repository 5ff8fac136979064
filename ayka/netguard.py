"""SSRF guard for URLs that customers give us (webhook endpoints): http(s) only, and every address the
host resolves to must be public.

Private, loopback, link-local (cloud metadata at 169.254.169.254), multicast, reserved and unspecified
addresses are refused unless ``allow_private`` (``AYKA_WEBHOOK_ALLOW_PRIVATE``). The kernel holds it
because two services check the same rule: the gateway when an endpoint is saved (``check_saved_url``),
the delivery worker before every attempt (``check_target``; DNS can change between the two).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], Awaitable[list[str]]]

SAVE_RESOLVE_TIMEOUT_S = 5.0
# Names that never reach a public host (RFC 6761 .localhost, mDNS .local, ICANN's private-use .internal).
_PRIVATE_NAMES = ("localhost", ".localhost", ".local", ".internal")


class UnsafeTarget(ValueError):
    """The URL is not a deliverable public http(s) target; the message says why."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int


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


def parse_target(url: str, *, allow_private: bool) -> Target:
    """Host and port of an http(s) URL without credentials; ``UnsafeTarget`` otherwise. Nothing is
    resolved here."""
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
    host = parts.hostname.lower().rstrip(".")
    if not allow_private and (host == _PRIVATE_NAMES[0] or host.endswith(_PRIVATE_NAMES[1:])):
        raise UnsafeTarget(f"{host} is a local name (loopback)")
    return Target(host, port)


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _refuse_non_public(host: str, addresses: list[str]) -> None:
    for address in addresses:
        reason = _why_not_public(ipaddress.ip_address(address))
        if reason:
            raise UnsafeTarget(f"{host} resolves to {address} ({reason})")


async def check_target(url: str, *, allow_private: bool, resolver: Resolver | None = None) -> list[str]:
    """Before sending: the addresses the URL's host resolves to; ``UnsafeTarget`` when any of them may
    not be called, or when the host does not resolve."""
    target = parse_target(url, allow_private=allow_private)
    literal = _literal(target.host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = await (resolver or resolve)(target.host, target.port)
        except (OSError, UnicodeError) as exc:
            raise UnsafeTarget(f"{target.host} does not resolve ({exc})") from None
    if not addresses:
        raise UnsafeTarget(f"{target.host} does not resolve")
    if not allow_private:
        _refuse_non_public(target.host, addresses)
    return addresses


async def check_saved_url(
    url: str,
    *,
    allow_private: bool,
    resolver: Resolver | None = None,
    timeout_s: float = SAVE_RESOLVE_TIMEOUT_S,
) -> None:
    """When a URL is saved: ``UnsafeTarget`` when it is not http(s), or its host is (or resolves to) a
    non-public address. A host that does not resolve yet is accepted: its DNS may not be live yet, and
    ``check_target`` refuses it at send time all the same."""
    target = parse_target(url, allow_private=allow_private)
    if allow_private:
        return
    literal = _literal(target.host)
    if literal is not None:
        _refuse_non_public(target.host, [literal])
        return
    try:
        async with asyncio.timeout(timeout_s):
            addresses = await (resolver or resolve)(target.host, target.port)
    except (OSError, UnicodeError, TimeoutError):
        return
    _refuse_non_public(target.host, addresses)
