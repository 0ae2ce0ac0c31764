"""The SMTP email sender against a fake SMTP server on 127.0.0.1, and the pluggable SMS sender."""

from __future__ import annotations

import socket
import socketserver
import threading
from email import message_from_bytes
from email.header import decode_header, make_header
from types import SimpleNamespace

import pytest

from app.services import outbox
from app.services.senders import LoggingSmsSender, SmtpEmailSender, sender_for
from tests.factories import make_customer
from tests.messaging.conftest import NOW, messages


class _FakeSmtp(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    def _reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        server = self.server
        self._reply("220 fake ESMTP")
        mail = {"rcpt": [], "data": b"", "auth": None}
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode().strip()
            verb = cmd.split(" ")[0].upper()
            if verb == "EHLO":
                self._reply("250-fake")
                self._reply("250 AUTH PLAIN")
            elif verb == "HELO":
                self._reply("250 fake")
            elif verb == "AUTH":
                mail["auth"] = cmd
                self._reply("235 ok")
            elif verb == "MAIL":
                mail["from"] = cmd
                self._reply("250 ok")
            elif verb == "RCPT":
                if server.refuse:
                    self._reply("550 no such user")
                else:
                    mail["rcpt"].append(cmd)
                    self._reply("250 ok")
            elif verb == "DATA":
                self._reply("354 go ahead")
                chunks = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b""):
                        break
                    chunks.append(data)
                mail["data"] = b"".join(chunks)
                server.received.append(mail)
                mail = {"rcpt": [], "data": b"", "auth": None}
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 ok")


@pytest.fixture
def smtp_server():  # noqa: ANN201
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _FakeSmtp)
    server.daemon_threads = True
    server.received = []
    server.refuse = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _config(server, **extra):  # noqa: ANN001, ANN202
    return {"CRM_SMTP_HOST": "127.0.0.1", "CRM_SMTP_PORT": server.server_address[1], "CRM_SMTP_USER": "",
            "CRM_SMTP_PASSWORD": "", "CRM_SMTP_FROM": "crm@example.com", **extra}


def test_smtp_sender_delivers_subject_body_and_recipient(smtp_server):  # noqa: ANN001
    sender = SmtpEmailSender(_config(smtp_server, CRM_SMTP_USER="crm", CRM_SMTP_PASSWORD="pw"))
    sender.send(SimpleNamespace(recipient="li@example.com", subject="您的工单 T-1 已受理", body="李先生，您好！"))
    [mail] = smtp_server.received
    assert "li@example.com" in mail["rcpt"][0]
    assert mail["auth"] and mail["auth"].startswith("AUTH PLAIN")
    parsed = message_from_bytes(mail["data"])
    assert str(make_header(decode_header(parsed["Subject"]))) == "您的工单 T-1 已受理"
    assert parsed["From"] == "crm@example.com"
    assert "李先生，您好！" in parsed.get_payload(decode=True).decode()


def test_smtp_refusal_raises(smtp_server):  # noqa: ANN001
    smtp_server.refuse = True
    with pytest.raises(Exception):  # noqa: B017 - smtplib's SMTPRecipientsRefused
        SmtpEmailSender(_config(smtp_server)).send(SimpleNamespace(recipient="x@example.com", subject="s", body="b"))


def test_outbox_sends_email_through_smtp_and_retries_when_server_is_down(ctx, app, actor, smtp_server,
                                                                          monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(outbox, "clock", lambda: NOW)
    for key, value in _config(smtp_server).items():
        monkeypatch.setitem(app.config, key, value)
    customer = make_customer(actor("clerk1"), email="zhao@example.com")
    outbox.enqueue(customer_id=customer.id, template_code="ticket_ack", channel="email",
                   context={"ticket_no": "T-9", "ticket_subject": "故障"})
    from app.extensions import db

    db.session.commit()
    # The server is down first: nothing listens on this port.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    monkeypatch.setitem(app.config, "CRM_SMTP_PORT", port)
    result = outbox.send_due(NOW)
    assert result.retrying == 1
    [msg] = messages()
    assert msg.status == "queued" and msg.last_error
    monkeypatch.setitem(app.config, "CRM_SMTP_PORT", smtp_server.server_address[1])
    assert outbox.send_due(msg.next_attempt_at).sent == 1
    [mail] = smtp_server.received
    assert "zhao@example.com" in mail["rcpt"][0]
    assert "T-9" in message_from_bytes(mail["data"]).get_payload(decode=True).decode()


def test_sms_sender_is_pluggable(ctx, app, monkeypatch):  # noqa: ANN001
    assert isinstance(sender_for("sms"), LoggingSmsSender)
    monkeypatch.setitem(app.config, "CRM_SMS_SENDER", "tests.messaging.test_senders:GatewayStub")
    assert isinstance(sender_for("sms"), GatewayStub)


class GatewayStub:
    channel = "sms"

    def __init__(self, config) -> None:  # noqa: ANN001
        self.config = config

    def send(self, message) -> None:  # noqa: ANN001
        pass
