"""Care rules whose action is a message: queued set-based in the outbox, exactly once, consent and
quiet hours respected, personalised when sent."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select, text, update

from app.extensions import db
from app.models.care import CareRule, CareTask
from app.services import care, outbox
from tests.conftest import actor_for
from tests.factories import make_customer
from tests.messaging.conftest import give_line, messages, overdue_bill, plan, senders, template

D = dt.date
DAY = D(2026, 3, 10)
SIX_AM = dt.datetime(2026, 3, 9, 22, 0)  # 06:00 on 10 March in Shanghai: the care job's hour
EIGHT_AM = dt.datetime(2026, 3, 10, 0, 0)


@pytest.fixture(autouse=True)
def _fresh_rules(app):  # noqa: ANN001, ANN201
    yield
    from app.services.care_rules import ensure_shipped_rules

    with app.app_context():
        db.session.rollback()
        db.session.execute(text("DELETE FROM care_task"))
        db.session.execute(text("DELETE FROM care_rule"))
        db.session.commit()
        ensure_shipped_rules()


def only(code: str, action: str) -> CareRule:
    db.session.execute(update(CareRule).values(enabled=CareRule.code == code))
    db.session.execute(update(CareRule).where(CareRule.code == code).values(action=action))
    db.session.commit()
    return db.session.execute(select(CareRule).where(CareRule.code == code)).scalar_one()


def _expiring(consent: bool, email: str | None = None):  # noqa: ANN202
    c = make_customer(actor_for("sales1"), consent_marketing=consent, **({"email": email} if email else {}))
    give_line(c, plan(f"E{c.id}", 20, "59.00", name="畅享20G"), D(2025, 1, 1),
              expiry=DAY + dt.timedelta(days=30))
    return c


def test_message_rule_queues_once_and_suppresses_opted_out(ctx):  # noqa: ANN001
    only("plan_expiry_reminder", "sms")
    yes, no = _expiring(True), _expiring(False)
    result = care.run_daily(SIX_AM, today=DAY)
    assert (result.messages, result.suppressed, result.created) == (1, 1, 0)
    assert db.session.execute(select(CareTask)).first() is None  # a message rule creates no task
    assert [m.status for m in messages(customer_id=yes.id)] == ["queued"]
    assert [m.status for m in messages(customer_id=no.id)] == ["suppressed"]
    [queued] = messages(customer_id=yes.id)
    assert queued.recipient == yes.mobile and queued.purpose == "marketing"
    assert queued.next_attempt_at == EIGHT_AM and queued.send_after == EIGHT_AM  # quiet hours until 08:00
    # Rerun (same day, later; or a restart): nothing new.
    again = care.run_daily(SIX_AM + dt.timedelta(hours=3), today=DAY)
    assert (again.messages, again.suppressed) == (0, 0)
    db.session.execute(update(CareRule).values(covered_through=None))
    db.session.commit()
    assert care.run_daily(SIX_AM, today=DAY).messages == 0  # even with the watermark lost
    assert len(messages()) == 2

    # At 08:00 the message is rendered from the customer's facts and sent.
    sent = senders()
    assert outbox.send_due(SIX_AM, senders=sent).sent == 0
    assert outbox.send_due(EIGHT_AM, senders=sent).sent == 1
    [(_id, to, body)] = sent["sms"].sent
    assert to == yes.mobile
    assert "畅享20G" in body and str(DAY + dt.timedelta(days=30)) in body and "TD" in body
    assert "12" in body  # the rule's renewal offer ("Renew for 12 months …")


def test_service_message_rule_ignores_marketing_consent(ctx):  # noqa: ANN001
    only("arrears_reminder", "sms")
    c = make_customer(actor_for("sales1"), consent_marketing=False)
    overdue_bill(c, DAY - dt.timedelta(days=20), "66.00")
    result = care.run_daily(SIX_AM, today=DAY)
    assert (result.messages, result.suppressed) == (1, 0)
    sent = senders()
    outbox.send_due(EIGHT_AM, senders=sent)
    [(_id, _to, body)] = sent["sms"].sent
    assert "66.00" in body and "20" in body


def test_email_rule_only_for_customers_with_an_address(ctx):  # noqa: ANN001
    only("plan_expiry_reminder", "email")
    with_mail, without = _expiring(True, email="a@example.com"), _expiring(True)
    assert care.run_daily(SIX_AM, today=DAY).messages == 1
    [m] = messages()
    assert m.customer_id == with_mail.id and m.channel == "email" and m.next_attempt_at == SIX_AM
    assert messages(customer_id=without.id) == []


def test_no_enabled_template_no_messages(ctx):  # noqa: ANN001
    only("plan_expiry_reminder", "sms")
    for language in ("zh", "en"):
        template("plan_expiry_reminder", language).enabled = False
    db.session.commit()
    _expiring(True)
    result = care.run_daily(SIX_AM, today=DAY)
    assert result.messages == 0 and result.no_template == 1 and messages() == []


def test_two_care_runs_at_once_queue_each_message_once(app, ctx):  # noqa: ANN001
    only("plan_expiry_reminder", "sms")
    for i in range(10):
        _expiring(i % 2 == 0)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def runner() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                r = care.run_daily(SIX_AM, today=DAY)
                results.append(r.messages + r.suppressed)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sum(results) == 10 and len(messages()) == 10
    keys = [(m.customer_id, m.dedupe_key) for m in messages()]
    assert len(set(keys)) == 10


def test_a_message_rule_needs_a_template_with_its_code(ctx):  # noqa: ANN001
    from app.services import care_rules
    from app.services.errors import Invalid

    manager = actor_for("manager")
    data = {"code": "spring_promo", "name": "Spring", "kind": "periodic", "params": '{"interval_days": 30}',
            "action": "sms", "owner_role": "Sales"}
    with pytest.raises(Invalid) as exc:
        care_rules.create(data, manager)
    assert "action" in exc.value.errors and "spring_promo" in exc.value.errors["action"][0]
    from app.services import templates

    templates.create({"code": "spring_promo", "language": "zh", "name": "Spring", "purpose": "marketing",
                      "channels": "sms", "body": "{{ salutation }}，春季优惠：{{ suggested_plan }}"}, manager)
    assert care_rules.create(data, manager).action == "sms"


def test_the_outbox_job_runs_every_minute_under_the_lease(ctx, monkeypatch):  # noqa: ANN001
    import json

    from app.services import jobs

    spec = jobs.get("outbox_send")
    assert spec.trigger == "interval" and spec.trigger_args == {"minutes": 1}
    ten_am = dt.datetime(2026, 3, 10, 2, 0)
    monkeypatch.setattr(outbox, "clock", lambda: ten_am)
    c = make_customer(actor_for("clerk1"))
    outbox.enqueue(customer_id=c.id, template_code="ticket_ack", context={"ticket_no": "T-5"})
    db.session.commit()
    run = jobs.execute("outbox_send", trigger="manual", now=ten_am)
    assert run.status == "success", run.error
    assert json.loads(run.counts)["sent"] == 1  # through the configured (logging) SMS sender
    assert [m.status for m in messages()] == ["sent"]
