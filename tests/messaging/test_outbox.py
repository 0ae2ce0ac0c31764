"""The outbox: enqueue inside the caller's transaction, sending with retries/backoff, leases, consent,
quiet hours."""

from __future__ import annotations

import datetime as dt

from app.extensions import db
from app.services import message_render, outbox
from tests.factories import make_customer
from tests.messaging.conftest import NOW, messages, senders

TICKET = {"ticket_no": "T-0001", "ticket_type": "投诉", "ticket_subject": "网速慢", "department": "技术部"}


def _customer(actor, **kw):  # noqa: ANN001, ANN202
    return make_customer(actor("clerk1"), **kw)


def test_enqueue_joins_the_callers_transaction(ctx, actor, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(outbox, "clock", lambda: NOW)
    customer = _customer(actor)
    rows = outbox.enqueue(customer_id=customer.id, template_code="ticket_ack", context=TICKET,
                          source="ticket", source_id=7)
    assert rows and rows[0].id is not None  # flushed, not committed
    db.session.rollback()  # the caller's business change failed
    assert messages() == []

    outbox.enqueue(customer_id=customer.id, template_code="ticket_ack", context=TICKET, source="ticket", source_id=7)
    db.session.commit()
    [sms] = messages()  # no email address: SMS only
    assert sms.channel == "sms" and sms.recipient == customer.mobile and sms.status == "queued"
    assert sms.body is None and sms.render_at_send  # written when sent, from the facts then
    assert sms.source == "ticket" and sms.source_id == 7 and sms.next_attempt_at == NOW
    sent = senders()
    outbox.send_due(NOW, senders=sent)
    [(_id, _to, body)] = sent["sms"].sent
    assert "T-0001" in body and "网速慢" in body and "技术部" in body
    assert messages()[0].body == body  # what was sent stays on the row


def test_enqueue_uses_every_channel_the_customer_has(ctx, actor, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(outbox, "clock", lambda: NOW)
    customer = _customer(actor, email="li@example.com")
    outbox.enqueue(customer_id=customer.id, template_code="ticket_resolved",
                   context={**TICKET, "survey_url": "http://127.0.0.1/s/abc"})
    db.session.commit()
    outbox.send_due(NOW, senders=senders())
    by_channel = {m.channel: m for m in messages()}
    assert set(by_channel) == {"sms", "email"}
    assert by_channel["email"].recipient == "li@example.com"
    assert "T-0001" in by_channel["email"].subject and "http://127.0.0.1/s/abc" in by_channel["email"].body


def test_missing_template_is_kept_as_failed_and_retryable(ctx, actor, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(outbox, "clock", lambda: NOW)
    customer = _customer(actor)
    outbox.enqueue(customer_id=customer.id, template_code="no_such_template", context=TICKET)
    db.session.commit()
    [msg] = messages()
    assert msg.status == "failed" and "no_such_template" in msg.last_error
    outbox.retry(msg.id, actor("manager"))
    result = outbox.send_due(NOW, senders=senders())
    # Still no template: failed again at once with the reason (no pointless backoff), kept, retryable.
    assert result.failed == 1 and result.retrying == 0
    [msg] = messages()
    assert msg.status == "failed" and "no_such_template" in msg.last_error


def test_sending_retries_with_backoff_then_fails_visibly(ctx, actor, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(outbox, "clock", lambda: NOW)
    customer = _customer(actor)
    outbox.enqueue(customer_id=customer.id, template_code="ticket_ack", context=TICKET)
    db.session.commit()
    down = senders(fail=True)
    now = NOW
    waits = []
    for attempt in range(1, 6):
        outbox.send_due(now, senders=down)
        [msg] = messages()
        assert msg.attempts == attempt
        if attempt < 5:
            assert msg.status == "queued" and "gateway down" in msg.last_error
            waits.append(msg.next_attempt_at - now)
            # Nothing happens before the backoff has passed.
            assert outbox.send_due(msg.next_attempt_at - dt.timedelta(seconds=1), senders=down).as_dict()[
                "retrying"] == 0
            now = msg.next_attempt_at
    assert waits == [dt.timedelta(minutes=m) for m in (1, 5, 25, 125)]
    [msg] = messages()
    assert msg.status == "failed" and msg.attempts == 5
    assert outbox.send_due(now + dt.timedelta(days=1), senders=down).as_dict()["failed"] == 0  # not resent

    # A manager retries it from the Outbox page; the gateway is back.
    outbox.retry(msg.id, actor("manager"))
    up = senders()
    assert outbox.send_due(NOW + dt.timedelta(days=2), senders=up).sent == 1
    [msg] = messages()
    assert msg.status == "sent" and msg.sent_at is not None and len(up["sms"].sent) == 1


def test_marketing_is_suppressed_without_consent(ctx, actor, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(outbox, "clock", lambda: NOW)
    no = _customer(actor, consent_marketing=False)
    yes = _customer(actor, consent_marketing=True)
    for c in (no, yes):
        outbox.enqueue(customer_id=c.id, template_code="birthday_greeting", context={}, purpose="marketing")
    db.session.commit()
    assert [m.status for m in messages(customer_id=no.id)] == ["suppressed"]
    [queued] = messages(customer_id=yes.id)
    assert queued.status == "queued"
    # Marketing SMS say how to opt out.
    assert "TD" in message_render.render(queued, NOW.date()).body

    # Opting out after the message was queued still stops it.
    yes.consent_marketing = False
    db.session.commit()
    sent = senders()
    result = outbox.send_due(NOW, senders=sent)
    assert result.suppressed == 1 and sent["sms"].sent == []
    assert {m.status for m in messages()} == {"suppressed"}


def test_service_messages_go_without_marketing_consent(ctx, actor, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(outbox, "clock", lambda: NOW)
    customer = _customer(actor, consent_marketing=False)
    outbox.enqueue(customer_id=customer.id, template_code="ticket_ack", context=TICKET)
    db.session.commit()
    assert outbox.send_due(NOW, senders=senders()).sent == 1


def test_quiet_hours_hold_sms_until_eight(ctx, actor, monkeypatch):  # noqa: ANN001
    late = dt.datetime(2026, 3, 2, 14, 30)  # 22:30 in Shanghai
    eight = dt.datetime(2026, 3, 3, 0, 0)  # 08:00 next morning in Shanghai
    monkeypatch.setattr(outbox, "clock", lambda: late)
    customer = _customer(actor, email="wang@example.com")
    outbox.enqueue(customer_id=customer.id, template_code="ticket_ack", context=TICKET)
    db.session.commit()
    by_channel = {m.channel: m for m in messages()}
    assert by_channel["sms"].send_after == eight and by_channel["sms"].next_attempt_at == eight
    assert by_channel["email"].send_after is None  # email is not held

    sent = senders()
    outbox.send_due(late, senders=sent)
    outbox.send_due(dt.datetime(2026, 3, 2, 23, 59), senders=sent)  # 07:59 local
    assert sent["sms"].sent == [] and len(sent["email"].sent) == 1
    outbox.send_due(eight, senders=sent)
    assert len(sent["sms"].sent) == 1


def test_a_retry_falling_in_quiet_hours_waits(ctx, actor, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(outbox, "clock", lambda: NOW)
    customer = _customer(actor)
    outbox.enqueue(customer_id=customer.id, template_code="ticket_ack", context=TICKET)
    db.session.commit()
    night = dt.datetime(2026, 3, 2, 13, 0)  # 21:00 local
    sent = senders()
    result = outbox.send_due(night, senders=sent)
    assert result.held == 1 and sent["sms"].sent == []
    [msg] = messages()
    assert msg.status == "queued" and msg.attempts == 0 and msg.next_attempt_at == dt.datetime(2026, 3, 3, 0, 0)


def test_quiet_hours_are_configurable(ctx, app, monkeypatch):  # noqa: ANN001
    monkeypatch.setitem(app.config, "CRM_QUIET_HOURS", "22:00-07:00")
    assert outbox.quiet_until(dt.datetime(2026, 3, 2, 13, 30)) is None  # 21:30 local
    assert outbox.quiet_until(dt.datetime(2026, 3, 2, 14, 30)) == dt.datetime(2026, 3, 2, 23, 0)
    monkeypatch.setitem(app.config, "CRM_QUIET_HOURS", "")
    assert outbox.quiet_until(dt.datetime(2026, 3, 2, 14, 30)) is None


def test_no_address_is_kept_as_failed_not_dropped(ctx, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(outbox, "clock", lambda: NOW)
    outbox.enqueue(customer_id=None, template_code="ticket_ack", context=TICKET, source="ticket", source_id=3)
    db.session.commit()
    [msg] = messages()
    assert msg.status == "failed" and msg.last_error == "no recipient address"
    # An explicit recipient without a customer works (neutral salutation).
    outbox.enqueue(customer_id=None, template_code="ticket_ack", context=TICKET, channel="email",
                   recipient="walkin@example.com")
    db.session.commit()
    [mail] = messages(channel="email")
    assert mail.status == "queued" and mail.recipient == "walkin@example.com"
    outbox.send_due(NOW, senders=senders())
    [mail] = messages(channel="email")
    assert mail.status == "sent" and "尊敬的客户" in mail.body
