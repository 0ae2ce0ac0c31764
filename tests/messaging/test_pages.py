"""Outbox page (managers): failed messages visible and retried; template preview and enabling."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.message import MessageTemplate
from app.services import outbox
from tests.conftest import actor_for
from tests.factories import make_customer
from tests.messaging.conftest import NOW, messages, senders, template


def _failed_message(monkeypatch) -> int:  # noqa: ANN001
    monkeypatch.setattr(outbox, "clock", lambda: NOW)
    monkeypatch.setattr(outbox, "max_attempts", lambda: 1)
    customer = make_customer(actor_for("clerk1"))
    outbox.enqueue(customer_id=customer.id, template_code="ticket_ack", context={"ticket_no": "T-77"})
    db.session.commit()
    outbox.send_due(NOW, senders=senders(fail=True))
    [msg] = messages()
    assert msg.status == "failed"
    return msg.id


def test_failed_message_is_visible_and_retried_from_the_outbox(app, ctx, as_user, monkeypatch):  # noqa: ANN001
    message_id = _failed_message(monkeypatch)
    client = as_user("manager")
    page = client.get("/outbox/?status=failed")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-message-id="{message_id}"' in html and "T-77" in html and "gateway down" in html
    assert f"/outbox/{message_id}/retry" in html
    resp = client.post(f"/outbox/{message_id}/retry", data={"status": "failed"})
    assert resp.status_code == 302
    db.session.expire_all()
    [msg] = messages()
    assert msg.status == "queued" and msg.attempts == 0
    # Retrying a queued message is refused with a message, not an error page.
    again = client.post(f"/outbox/{message_id}/retry", follow_redirects=True)
    assert again.status_code == 200 and "crm-outbox" in again.get_data(as_text=True)
    db.session.expire_all()
    assert messages()[0].status == "queued"
    assert client.post("/outbox/999999/retry").status_code == 404
    [msg] = messages()
    mine = client.get(f"/outbox/?customer={msg.customer_id}").get_data(as_text=True)
    other = client.get(f"/outbox/?customer={msg.customer_id + 1}").get_data(as_text=True)
    assert f'data-message-id="{message_id}"' in mine and f'data-message-id="{message_id}"' not in other
    assert client.get("/outbox/?customer=abc&page=x&status=nonsense").status_code == 200


def test_outbox_is_for_managers_only(app, ctx, as_user):  # noqa: ANN001
    for username in ("clerk1", "sales1", "agent1"):
        resp = as_user(username).get("/outbox/")
        assert resp.status_code in (302, 403), username
    assert as_user("admin2").get("/outbox/").status_code == 200


def test_preview_page_on_a_real_customer_then_enable(app, ctx, as_user):  # noqa: ANN001
    c = make_customer(actor_for("clerk1"), name="王芳")
    t = template("birthday_greeting", "zh")
    t.enabled = False
    db.session.commit()
    client = as_user("manager")
    html = client.get(f"/message-templates/preview/{t.id}?customer={c.mobile}").get_data(as_text=True)
    assert "王" in html and "祝您生日快乐" in html and "crm-preview-body" in html
    assert "{{ salutation }}" in html  # the raw template is shown beside the rendered text
    missing = client.get(f"/message-templates/preview/{t.id}?customer=13900000000").get_data(as_text=True)
    assert "crm-preview-error" in missing
    assert client.get("/message-templates/preview/999999").status_code == 404
    assert "crm-enable-hint" in client.get(f"/message-templates/preview/{t.id}").get_data(as_text=True)
    client.post(f"/message-templates/preview/{t.id}/enable", data={"enabled": "1"})  # no preview: refused
    db.session.expire_all()
    assert db.session.get(MessageTemplate, t.id).enabled is False
    resp = client.post(f"/message-templates/preview/{t.id}/enable", data={"enabled": "1", "customer": c.mobile})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(MessageTemplate, t.id).enabled is True
    assert as_user("clerk1").get(f"/message-templates/preview/{t.id}").status_code in (302, 403)


def test_template_form_refuses_an_unknown_placeholder(app, ctx, as_user):  # noqa: ANN001
    client = as_user("manager")
    resp = client.post("/message-templates/add", data={
        "code": "promo", "language": "zh", "name": "Promo", "purpose": "marketing", "channels": "sms",
        "body": "{{ salutation }} {{ nonsense }}",
    })
    assert resp.status_code == 200 and "nonsense" in resp.get_data(as_text=True)
    assert db.session.execute(select(MessageTemplate).where(MessageTemplate.code == "promo")).first() is None
    resp = client.post("/message-templates/add", data={
        "code": "promo", "language": "zh", "name": "Promo", "purpose": "marketing", "channels": "sms",
        "body": "{{ salutation }}，{{ offer }}",
    })
    assert resp.status_code == 302
    assert db.session.execute(select(MessageTemplate).where(MessageTemplate.code == "promo")).scalar().enabled is False
    listing = client.get("/message-templates/list/").get_data(as_text=True)
    assert "promo" in listing and "/message-templates/preview/" in listing


def test_manager_edits_a_template_and_the_preview_shows_the_new_text(app, ctx, as_user):  # noqa: ANN001
    c = make_customer(actor_for("clerk1"), name="孙丽")
    t = template("birthday_greeting", "zh")
    client = as_user("manager")
    form = client.get(f"/message-templates/edit/{t.id}")
    assert form.status_code == 200 and "祝您生日快乐" in form.get_data(as_text=True)
    resp = client.post(f"/message-templates/edit/{t.id}", data={
        "code": t.code, "language": "zh", "name": t.name, "purpose": "marketing", "channels": "sms",
        "subject": "", "body": "{{ salutation }}，生日快乐！本月{{ plan_name }}赠送5GB流量。", "version": t.version,
    })
    assert resp.status_code == 302
    html = client.get(f"/message-templates/preview/{t.id}?customer={c.id}").get_data(as_text=True)
    assert "生日快乐！本月您的套餐赠送5GB流量。" in html  # no plan yet: the neutral wording
    assert "plan_name" in html.split('id="crm-preview-missing"')[1].split("</div>")[0]
    assert client.get(f"/message-templates/show/{t.id}").status_code == 200
