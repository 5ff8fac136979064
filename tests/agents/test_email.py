"""Sending a draft over SMTP, to a real (minimal) SMTP server of the test's own on loopback."""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from agents.email import BadRecipient, NoDraft, SmtpNotConfigured, SmtpNotSecure, send_email_draft
from ayka.settings import Settings
from persistence.repositories.leads import Lead


@dataclass
class SmtpServer:
    port: int = 0
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # every verb received, in order


async def _session(server: SmtpServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Just enough RFC 5321 for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT (no STARTTLS offered)."""
    sender, recipients = "", []
    writer.write(b"220 test ESMTP\r\n")
    while line := await reader.readline():
        command = line.decode().strip()
        verb = command.split(" ", 1)[0].upper()
        server.commands.append(verb)
        if verb in {"EHLO", "HELO"}:
            writer.write(b"250-test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
        elif verb == "AUTH":
            writer.write(b"235 2.7.0 Authentication successful\r\n")
        elif verb == "MAIL":
            sender = command.split(":", 1)[1].strip().strip("<>").split(">")[0]
            writer.write(b"250 OK\r\n")
        elif verb == "RCPT":
            recipients.append(command.split(":", 1)[1].strip().strip("<>"))
            writer.write(b"250 OK\r\n")
        elif verb == "DATA":
            writer.write(b"354 go on\r\n")
            await writer.drain()
            data = b""
            while (chunk := await reader.readline()) != b".\r\n":
                data += chunk
            server.messages.append((sender, recipients, data))
            writer.write(b"250 queued\r\n")
        elif verb == "QUIT":
            writer.write(b"221 bye\r\n")
            await writer.drain()
            break
        else:
            writer.write(b"250 OK\r\n")
        await writer.drain()
    writer.close()


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    listener = await asyncio.start_server(lambda r, w: _session(server, r, w), "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    yield server
    listener.close()


def lead(draft: dict[str, str] | None) -> Lead:
    now = datetime.now(UTC)
    return Lead(
        id="lead_1", owner_id="usr_1", session_id="s1", person="Dana Whitfield", company="Acme",
        role=None, email="dana@acme.example", phone=None, intent=None, budget=None, timeline=None,
        next_step=None, score=50, score_reasons=[], status="new", notes="", evidence=[], email_draft=draft,
        engine="offline", finalized=True, created_at=now, updated_at=now,
    )  # fmt: skip


DRAFT = {"subject": "Following up on our call — Acme", "body": "Hi Dana,\n\nThanks for your time.\n"}


async def test_the_draft_is_sent(smtp: SmtpServer) -> None:
    settings = Settings(
        smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_from="Maya <maya@brightwave.example>"
    )
    message_id = await send_email_draft(settings, lead(DRAFT), "dana@acme.example")
    ((sender, recipients, data),) = smtp.messages
    assert sender == "maya@brightwave.example" and recipients == ["dana@acme.example"]
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Subject"] == DRAFT["subject"] and parsed["Message-ID"] == message_id
    assert "Thanks for your time." in parsed.get_content()  # type: ignore[attr-defined]


async def test_nothing_is_sent_without_smtp_settings_a_draft_or_a_valid_address(smtp: SmtpServer) -> None:
    with pytest.raises(SmtpNotConfigured):
        await send_email_draft(Settings(), lead(DRAFT), "dana@acme.example")
    configured = Settings(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_from="maya@brightwave.example")
    with pytest.raises(NoDraft):
        await send_email_draft(configured, lead(None), "dana@acme.example")
    with pytest.raises(BadRecipient):
        await send_email_draft(configured, lead(DRAFT), "not an address")
    assert smtp.messages == []


async def test_no_login_over_a_connection_without_tls(smtp: SmtpServer) -> None:
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="maya@brightwave.example",
        smtp_user="maya",
        smtp_password="s3cret",
    )
    with pytest.raises(SmtpNotSecure, match="offers no TLS") as refused:
        await send_email_draft(settings, lead(DRAFT), "dana@acme.example")
    assert isinstance(refused.value, smtplib.SMTPException)  # the API maps it as a mail server failure
    assert "AUTH" not in smtp.commands and "MAIL" not in smtp.commands and smtp.messages == []

    # Allowed explicitly (a relay on a trusted network): it logs in and sends.
    await send_email_draft(settings, lead(DRAFT), "dana@acme.example", allow_plaintext_login=True)
    assert smtp.commands.count("AUTH") == 1 and len(smtp.messages) == 1

    # ... or by the setting AYKA_SMTP_ALLOW_PLAINTEXT_LOGIN.
    trusted = settings.model_copy(update={"smtp_allow_plaintext_login": True})
    await send_email_draft(trusted, lead(DRAFT), "dana@acme.example")
    assert smtp.commands.count("AUTH") == 2 and len(smtp.messages) == 2
