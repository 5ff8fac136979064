"""Secrets that must exist but need no human: generated once into the data dir (mode 0600) and reused."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from ayka.settings import Settings

SECRETS_FILE = "secrets.json"


def ensure_secrets(settings: Settings) -> Settings:
    """Return settings whose jwt_secret and url_signing_secret are set: from the environment when given,
    else from ``<data_dir>/secrets.json``, created on first use."""
    if settings.jwt_secret and settings.url_signing_secret:
        return settings
    path = Path(settings.data_dir) / SECRETS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text())
    changed = False
    for name in ("jwt_secret", "url_signing_secret"):
        if not stored.get(name):
            stored[name] = secrets.token_urlsafe(48)
            changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(stored, fh)
        tmp.replace(path)
    return settings.model_copy(
        update={
            "jwt_secret": settings.jwt_secret or stored["jwt_secret"],
            "url_signing_secret": settings.url_signing_secret or stored["url_signing_secret"],
        }
    )
