"""Senders: one interface for every channel. The outbox job hands each message to `sender_for(channel)`.

A sender's `send(message)` returns when the message is handed over and raises (any exception) when it
is not; the outbox then retries with backoff. Email goes through `smtplib` to the configured server
(`CRM_SMTP_*`); without `CRM_SMTP_HOST` (development) emails are only logged. SMS goes to the class
named by `CRM_SMS_SENDER` ("module:Class"), a logging sender by default — a real gateway is one
class with the same `send`.
"""

from __future__ import annotations

import importlib
import logging
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from flask import current_app

from app.services.masking import mask_mobile

log = logging.getLogger(__name__)


class SendError(RuntimeError):
    """The message was not handed over; the outbox retries it later."""


class Sender(Protocol):
    channel: str

    def send(self, message: Any) -> None:  # an OutboxMessage (or anything with its fields)
        ...


class LoggingSmsSender:
    """Development SMS sender: writes one log line (recipient masked) instead of sending."""

    channel = "sms"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, message: Any) -> None:
        if not message.recipient:
            raise SendError("no mobile number")
        log.info("SMS to %s (%d characters): %s", mask_mobile(message.recipient), len(message.body or ""),
                 message.body)
        self.sent.append((message.recipient, message.body))


class LoggingEmailSender:
    """Development email sender (no CRM_SMTP_HOST): logs instead of sending."""

    channel = "email"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        pass

    def send(self, message: Any) -> None:
        if not message.recipient:
            raise SendError("no email address")
        log.info("Email to %s: %s", message.recipient, message.subject or "")


class SmtpEmailSender:
    """Email through smtplib to CRM_SMTP_HOST:CRM_SMTP_PORT (STARTTLS and login when configured)."""

    channel = "email"

    def __init__(self, config: dict[str, Any]) -> None:
        self.host = config.get("CRM_SMTP_HOST") or "127.0.0.1"
        self.port = int(config.get("CRM_SMTP_PORT") or 25)
        self.user = config.get("CRM_SMTP_USER") or ""
        self.password = config.get("CRM_SMTP_PASSWORD") or ""
        self.sender = config.get("CRM_SMTP_FROM") or "crm@example.invalid"
        self.starttls = bool(config.get("CRM_SMTP_STARTTLS"))
        self.timeout = float(config.get("CRM_SMTP_TIMEOUT", 20))

    def build(self, message: Any) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject or ""
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail.set_content(message.body or "")
        return mail

    def send(self, message: Any) -> None:
        if not message.recipient:
            raise SendError("no email address")
        mail = self.build(message)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            refused = smtp.send_message(mail)
        if refused:
            raise SendError(f"recipient refused: {refused}")


def _load(path: str) -> type:
    module, _sep, name = path.partition(":") if ":" in path else path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def sender_for(channel: str, config: dict[str, Any] | None = None) -> Sender:
    """The configured sender of a channel."""
    config = config if config is not None else current_app.config
    if channel == "email":
        return SmtpEmailSender(config) if config.get("CRM_SMTP_HOST") else LoggingEmailSender(config)
    if channel == "sms":
        return _load(config.get("CRM_SMS_SENDER") or "app.services.senders:LoggingSmsSender")(config)
    raise SendError(f"unknown channel {channel!r}")
