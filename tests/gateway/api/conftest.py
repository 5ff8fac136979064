from __future__ import annotations

from tests.gateway.api.fixtures import api, app, client

__all__ = ["api", "app", "client"]
