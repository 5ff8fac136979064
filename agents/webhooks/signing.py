"""Standard Webhooks signatures: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``.

The signature is ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` per secret; during a rotation the
message carries one signature per valid secret, separated by spaces, so receivers holding either the
old or the new secret accept it.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh ``whsec_`` secret (24 random bytes, base64)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signature_headers(
    signing_secrets: list[str], webhook_id: str, timestamp: datetime, body: str
) -> dict[str, str]:
    if not signing_secrets:
        raise ValueError("no secret to sign with")
    signatures = [Webhook(secret).sign(webhook_id, timestamp, body) for secret in signing_secrets]
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
