"""Sending a lead's follow-up draft over SMTP: only when SMTP is configured and the user asks."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from email_validator import EmailNotValidError, validate_email

from ayka.settings import Settings
from persistence.repositories.leads import Lead

SMTPS_PORT = 465
TIMEOUT_S = 30.0


class EmailError(Exception):
    """Base class: the draft could not be sent (the message says why)."""


class SmtpNotConfigured(EmailError):
    """AYKA_SMTP_HOST (and AYKA_SMTP_FROM) are not set."""


class NoDraft(EmailError):
    """The lead has no email draft."""


class BadRecipient(EmailError):
    """The address to send to is not a valid email address."""


class SmtpNotSecure(EmailError, smtplib.SMTPException):
    """The server offers no TLS (neither SMTPS on 465 nor STARTTLS), and logging in would send the
    password in cleartext. An ``SMTPException`` too: callers that map server failures see it there."""


def compose(settings: Settings, lead: Lead, to: str) -> EmailMessage:
    if not settings.smtp_host or not settings.smtp_from:
        raise SmtpNotConfigured("SMTP is not configured (AYKA_SMTP_HOST, AYKA_SMTP_FROM)")
    if not lead.email_draft or not lead.email_draft.get("subject") or not lead.email_draft.get("body"):
        raise NoDraft(f"lead {lead.id} has no email draft")
    try:
        recipient = validate_email(to, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise BadRecipient(str(exc)) from None
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = recipient
    message["Subject"] = lead.email_draft["subject"]
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rsplit("@", 1)[-1].strip(">"))
    message.set_content(lead.email_draft["body"])
    return message


def _send(settings: Settings, message: EmailMessage, allow_plaintext_login: bool) -> None:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.smtp_port == SMTPS_PORT:
        smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S, context=context)
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S)
    with smtp:
        smtp.ehlo()
        secure = isinstance(smtp, smtplib.SMTP_SSL)
        if not secure and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
            secure = True
        if settings.smtp_user:
            if not secure and not (allow_plaintext_login or settings.smtp_allow_plaintext_login):
                raise SmtpNotSecure(
                    f"the SMTP server {settings.smtp_host}:{settings.smtp_port} offers no TLS (no STARTTLS, "
                    f"not port {SMTPS_PORT}); refusing to send the password in cleartext"
                )
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


async def send_email_draft(
    settings: Settings, lead: Lead, to: str, *, allow_plaintext_login: bool = False
) -> str:
    """Send the lead's draft to ``to``; returns the Message-ID. ``EmailError`` subclasses for bad input;
    ``smtplib.SMTPException`` / ``OSError`` when the server refuses or cannot be reached, including
    ``SmtpNotSecure`` when a login would cross the network unencrypted (``allow_plaintext_login``
    permits it, for a relay on a trusted network)."""
    message = compose(settings, lead, to)
    await asyncio.to_thread(_send, settings, message, allow_plaintext_login)
    return str(message["Message-ID"])
