"""Messages are written when they are sent: in the customer's language (falling back to zh, then to
any language there is), from the facts as they are then; what cannot be written fails visibly."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models.message import MessageTemplate, OutboxMessage
from app.services import customer_merge, customers, message_render, outbox, templates
from app.services.message_render import RenderError
from tests.factories import make_customer
from tests.messaging.conftest import NOW, give_line, messages, plan, senders, template

TICKET = {"ticket_no": "T-0001", "ticket_type": "投诉", "ticket_subject": "网速慢", "department": "技术部"}
LATE = dt.datetime(2026, 3, 2, 14, 30)  # 22:30 in Shanghai: quiet hours
EIGHT = dt.datetime(2026, 3, 3, 0, 0)  # 08:00 next morning in Shanghai


@pytest.fixture(autouse=True)
def _clock(monkeypatch):  # noqa: ANN001, ANN202
    monkeypatch.setattr(outbox, "clock", lambda: NOW)


def _customer(actor, **kw):  # noqa: ANN001, ANN202
    return make_customer(actor("clerk1"), **kw)


def _send(now: dt.datetime = NOW) -> dict[str, str]:
    """Send what is due; {recipient: body} of what went out."""
    sent = senders()
    outbox.send_due(now, senders=sent)
    return {to: body for s in sent.values() for _id, to, body in s.sent}


def test_an_english_customer_gets_the_english_text(ctx, actor):  # noqa: ANN001
    en = _customer(actor, language="en")
    zh = _customer(actor)
    for c in (en, zh):
        outbox.enqueue(customer_id=c.id, template_code="ticket_ack", context=TICKET)
    db.session.commit()
    assert [m.language for m in messages()] == ["en", "zh"]  # the language asked for, kept on the row
    bodies = _send()
    assert bodies[en.mobile].startswith("Mr ") and "we have received your" in bodies[en.mobile]
    assert "T-0001" in bodies[en.mobile] and "已受理" not in bodies[en.mobile]
    assert "已受理" in bodies[zh.mobile]
    [m_en, m_zh] = messages()
    assert (m_en.status, m_en.language, m_en.body) == ("sent", "en", bodies[en.mobile])
    assert m_en.rendered_at == NOW and m_zh.language == "zh"


def test_a_template_missing_in_english_falls_back_to_chinese_then_to_any(ctx, actor):  # noqa: ANN001
    db.session.delete(template("birthday_greeting", "en"))
    db.session.add(MessageTemplate(code="only_en", language="en", name="English only", purpose="service",
                                   channels="sms", body="{{ salutation }}, your data is ready.", enabled=True))
    db.session.commit()
    en = _customer(actor, language="en", consent_marketing=True)
    zh = _customer(actor)
    outbox.enqueue(customer_id=en.id, template_code="birthday_greeting", context={}, purpose="marketing")
    outbox.enqueue(customer_id=zh.id, template_code="only_en", context={})
    db.session.commit()
    bodies = _send()
    assert "祝您生日快乐" in bodies[en.mobile]  # no English text: the Chinese one, not nothing
    assert "your data is ready" in bodies[zh.mobile]  # only English exists: still sent
    assert {m.customer_id: (m.status, m.language) for m in messages()} == {
        en.id: ("sent", "zh"), zh.id: ("sent", "en")}


def test_a_customer_renamed_before_sending_gets_the_new_name(ctx, actor):  # noqa: ANN001
    c = _customer(actor, name="张三")
    outbox.enqueue(customer_id=c.id, template_code="ticket_ack", context=TICKET)
    db.session.commit()
    customers.update(c.id, {"name": "李四"}, actor("clerk1"))
    body = _send()[c.mobile]
    assert body.startswith("李先生") and "张" not in body


def test_a_customer_switched_to_english_before_sending_gets_english(ctx, actor):  # noqa: ANN001
    c = _customer(actor)
    outbox.enqueue(customer_id=c.id, template_code="ticket_ack", context=TICKET)
    db.session.commit()
    customers.update(c.id, {"language": "en"}, actor("clerk1"))
    assert "we have received" in _send()[c.mobile]


def test_an_sms_held_by_quiet_hours_is_written_at_eight_with_the_facts_then(ctx, actor, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(outbox, "clock", lambda: LATE)
    c = _customer(actor, consent_marketing=True)
    give_line(c, plan("Q1", 10, "39.00", name="基础10G"), dt.date(2026, 1, 1))
    outbox.enqueue(customer_id=c.id, template_code="new_customer_revisit", context={}, purpose="marketing")
    db.session.commit()
    [msg] = messages()
    assert msg.send_after == EIGHT and msg.body is None
    # During the night the customer moves to another plan.
    c.plan_id = plan("Q2", 40, "99.00", name="畅享40G").id
    db.session.commit()
    assert _send(LATE) == {} and _send(EIGHT - dt.timedelta(minutes=1)) == {}
    body = _send(EIGHT)[c.mobile]
    assert "畅享40G" in body and "基础10G" not in body
    [msg] = messages()
    assert msg.status == "sent" and msg.rendered_at == EIGHT and msg.body == body


def test_a_retry_is_written_again_from_current_facts(ctx, actor):  # noqa: ANN001
    c = _customer(actor, name="张三")
    outbox.enqueue(customer_id=c.id, template_code="ticket_ack", context=TICKET)
    db.session.commit()
    outbox.send_due(NOW, senders=senders(fail=True))
    [msg] = messages()
    assert msg.status == "queued" and msg.body.startswith("张先生")  # the text of the failed attempt
    customers.update(c.id, {"name": "李四"}, actor("clerk1"))
    assert _send(msg.next_attempt_at)[c.mobile].startswith("李先生")


def test_a_ticket_message_is_written_from_the_ticket_as_it_is_then(ctx, actor):  # noqa: ANN001
    from app.models.department import Department
    from app.services import tickets

    c = _customer(actor, language="en")
    ticket = tickets.create({"channel": "phone", "ticket_type": "complaint", "subject": "网速慢",
                             "description": "晚上网速很慢", "customer_id": c.id}, actor("agent1"), at=NOW)
    [ack] = messages(template_code="ticket_ack")
    technical = db.session.execute(text("SELECT id FROM department WHERE code = 'technical'")).scalar_one()
    ticket.subject = "Slow data at night"  # corrected before the message went
    ticket.department_id = technical
    db.session.commit()
    body = _send()[c.mobile]
    assert "complaint ticket" in body.lower() and ticket.ticket_no in body
    assert "(Slow data at night)" in body and "Our technical team" in body
    assert db.session.get(Department, technical).name not in body  # not the Chinese department name
    assert db.session.get(OutboxMessage, ack.id).status == "sent"


def test_a_deleted_template_fails_the_message_with_the_reason(ctx, actor, as_user):  # noqa: ANN001
    c = _customer(actor)
    outbox.enqueue(customer_id=c.id, template_code="ticket_ack", context=TICKET)
    db.session.commit()
    for language in ("zh", "en"):
        templates.delete(template("ticket_ack", language).id, actor("manager"))
    sent = senders()
    result = outbox.send_due(NOW, senders=sent)
    assert (result.sent, result.failed, result.retrying) == (0, 1, 0) and sent["sms"].sent == []
    [msg] = messages()
    assert msg.status == "failed" and "no enabled template 'ticket_ack'" in msg.last_error
    html = as_user("manager").get("/outbox/?status=failed").get_data(as_text=True)
    assert f'data-message-id="{msg.id}"' in html and "no enabled template" in html
    # Never lost: once the template is back, Retry sends it.
    templates.ensure_defaults()
    outbox.retry(msg.id, actor("manager"))
    assert "已受理" in _send()[c.mobile]


def test_a_message_follows_a_merged_customer_to_the_survivor(ctx, actor):  # noqa: ANN001
    kept = _customer(actor, name="王五")
    gone = _customer(actor, name="王五")
    outbox.enqueue(customer_id=gone.id, template_code="ticket_ack", context=TICKET)
    db.session.commit()
    customers.update(kept.id, {"name": "王伍"}, actor("clerk1"))
    customer_merge.merge(kept.id, gone.id, None, actor("manager"))
    [msg] = messages()
    assert msg.customer_id == kept.id
    sent = senders()
    outbox.send_due(NOW, senders=sent)
    [(_id, _to, body)] = sent["sms"].sent
    assert "王" in body and messages()[0].status == "sent"
    # A row still naming the merged id (written by code that did not follow the merge) is re-pointed.
    stray = OutboxMessage(customer_id=gone.id, channel="sms", template_code="ticket_ack", context="{}")
    assert message_render.resolve_customer(stray).id == kept.id and stray.customer_id == kept.id
    assert "王" in message_render.render(stray, NOW.date()).body


def test_a_deleted_customer_without_merge_cannot_be_written_to(ctx, actor):  # noqa: ANN001
    stray = OutboxMessage(customer_id=987654, channel="sms", template_code="ticket_ack", context="{}")
    with pytest.raises(RenderError, match="#987654 no longer exists"):
        message_render.render(stray, NOW.date())
    broken = OutboxMessage(customer_id=None, channel="sms", template_code="ticket_ack", context="{not json")
    with pytest.raises(RenderError, match="not valid JSON"):
        message_render.render(broken, NOW.date())


def test_rows_queued_with_their_text_are_sent_as_they_are(ctx, actor):  # noqa: ANN001
    c = _customer(actor)
    # As rows queued before send-time rendering look: a body, no render_at_send (its server default).
    db.session.execute(text(
        "INSERT INTO outbox_message (channel, recipient, body, purpose, template_code, customer_id, status, "
        "attempts, next_attempt_at, created_at, updated_at) VALUES ('sms', :to, '旧的正文', 'service', 'ticket_ack', "
        ":cid, 'queued', 0, :now, :now, :now)"), {"to": c.mobile, "cid": c.id, "now": NOW})
    db.session.commit()
    assert _send() == {c.mobile: "旧的正文"}
    [msg] = messages()
    assert msg.status == "sent" and msg.render_at_send is False and msg.rendered_at is None


def test_the_outbox_page_shows_the_text_sent_and_its_language(ctx, actor, as_user):  # noqa: ANN001
    c = _customer(actor, language="en")
    outbox.enqueue(customer_id=c.id, template_code="ticket_ack", context=TICKET)
    db.session.commit()
    client = as_user("manager")
    before = client.get(f"/outbox/?customer={c.id}").get_data(as_text=True)
    assert "（发送时生成）" in before and 'data-language="en"' in before
    _send()
    after = client.get(f"/outbox/?customer={c.id}").get_data(as_text=True)
    assert "we have received your" in after and "英文" in after


def test_campaign_messages_use_each_customers_language_and_the_campaign_then(ctx):  # noqa: ANN001
    from app.services import campaigns
    from tests.campaigns.conftest import NOW as CAMPAIGN_NOW
    from tests.campaigns.conftest import TODAY, customer, make_campaign
    from tests.conftest import actor_for

    for language, body in (("zh", "{{ salutation }}，{{ campaign_name }}：{{ offer }}"),
                           ("en", "{{ salutation }}, {{ campaign_name }}: {{ offer }}")):
        db.session.add(MessageTemplate(code="spring_promo", language=language, name="Spring", purpose="marketing",
                                       channels="sms", body=body, enabled=True))
    db.session.commit()
    zh, en = customer(), customer(language="en")
    c = make_campaign(channel="sms", template_code="spring_promo", name="春季回馈")
    campaigns.launch(c.id, actor_for("manager"), today=TODAY)
    campaigns.process_launches(CAMPAIGN_NOW)
    assert {m.customer_id: m.language for m in messages()} == {zh.id: "zh", en.id: "en"}
    c.name = "Spring thanks"  # renamed after launch, before the messages went
    db.session.commit()
    bodies = _send(CAMPAIGN_NOW)
    assert bodies[en.mobile].startswith("Mr ") and "Spring thanks" in bodies[en.mobile]
    assert "TD" in bodies[en.mobile] and "Reply TD to opt out" in bodies[en.mobile]
    assert "Spring thanks" in bodies[zh.mobile] and "回复TD退订" in bodies[zh.mobile]


def test_a_mobile_changed_while_the_sms_waited_gets_it_at_the_new_number(ctx, actor, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(outbox, "clock", lambda: LATE)
    c = _customer(actor)
    old_mobile = c.mobile
    outbox.enqueue(customer_id=c.id, template_code="ticket_ack", context=TICKET)
    db.session.commit()
    customers.update(c.id, {"mobile": "13912345678"}, actor("clerk1"))  # during the quiet-hours hold
    assert _send(EIGHT) == {"13912345678": messages()[0].body}
    [msg] = messages()
    assert msg.status == "sent" and msg.recipient == "13912345678" != old_mobile


def test_an_email_address_removed_before_sending_fails_the_email_with_the_reason(ctx, actor):  # noqa: ANN001
    c = _customer(actor, email="li@example.com")
    outbox.enqueue(customer_id=c.id, template_code="ticket_ack", context=TICKET)
    db.session.commit()
    customers.update(c.id, {"email": ""}, actor("clerk1"))
    sent = senders()
    outbox.send_due(NOW, senders=sent)
    assert sent["email"].sent == [] and len(sent["sms"].sent) == 1
    [mail] = messages(channel="email")
    assert mail.status == "failed" and "no email address any more" in mail.last_error
