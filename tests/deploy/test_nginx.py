"""deploy/nginx/ayka.conf: WebSocket upgrade, long timeouts and TLS in front of the gateways."""

from __future__ import annotations

import re

from tests.deploy.support import DEPLOY

CONF = DEPLOY / "nginx" / "ayka.conf"


def blocks(text: str, header: str) -> list[str]:
    """The bodies of every `header { ... }` block (nested braces balanced)."""
    found = []
    for match in re.finditer(re.escape(header) + r"\s*\{", text):
        depth, start = 1, match.end()
        for index in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            if depth == 0:
                found.append(text[start:index])
                break
    return found


def directive(block: str, name: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(rf"^\s*{name}\s+([^;]*);", block, re.MULTILINE)]


def text() -> str:
    return "\n".join(line.split("#", 1)[0] for line in CONF.read_text().splitlines())


def test_braces_balance() -> None:
    body = text()
    assert body.count("{") == body.count("}")


def test_websocket_location_upgrades_and_waits_for_hours() -> None:
    body = text()
    assert blocks(body, "map $http_upgrade $connection_upgrade")
    (listen,) = blocks(body, "location /v1/listen")
    assert "Upgrade $http_upgrade" in directive(listen, "proxy_set_header")
    assert "Connection $connection_upgrade" in directive(listen, "proxy_set_header")
    for timeout in ("proxy_read_timeout", "proxy_send_timeout"):
        (value,) = directive(listen, timeout)
        assert int(value.removesuffix("s")) >= 3600, timeout
    assert directive(listen, "proxy_buffering") == ["off"]
    assert directive(listen, "proxy_pass") == ["http://ayka_gateway"]
    assert "1.1" in directive(body, "proxy_http_version")


def test_tls_and_upstream() -> None:
    body = text()
    servers = blocks(body, "server")
    tls = [s for s in servers if any("443 ssl" in v for v in directive(s, "listen"))]
    assert len(tls) == 1
    assert directive(tls[0], "ssl_certificate") and directive(tls[0], "ssl_certificate_key")
    assert directive(tls[0], "ssl_protocols") == ["TLSv1.2 TLSv1.3"]
    plain = [s for s in servers if any(v.startswith("80") for v in directive(s, "listen"))]
    assert plain and "return 301 https://$host$request_uri" in plain[0]
    (upstream,) = blocks(body, "upstream ayka_gateway")
    assert directive(upstream, "server")
    assert int(directive(tls[0], "client_max_body_size")[0].removesuffix("g")) >= 1
