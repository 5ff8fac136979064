from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from agents.webhooks.signing import new_secret, signature_headers


def test_secrets_are_whsec_and_distinct() -> None:
    a, b = new_secret(), new_secret()
    assert a.startswith("whsec_") and a != b


def test_one_signature_per_secret_each_verifies_with_its_own_secret() -> None:
    old, new = new_secret(), new_secret()
    body = '{"type":"lead.finalized","data":{}}'
    headers = signature_headers([new, old], "msg_1", datetime.now(UTC), body)
    assert headers["webhook-id"] == "msg_1"
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    assert Webhook(old).verify(body, headers) == {"type": "lead.finalized", "data": {}}
    assert Webhook(new).verify(body, headers)["type"] == "lead.finalized"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body.replace("lead", "evil"), headers)


def test_no_secret_is_an_error() -> None:
    with pytest.raises(ValueError):
        signature_headers([], "msg_1", datetime.now(UTC), "{}")
