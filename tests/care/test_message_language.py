"""Care rule messages (here the arrears reminder and the plan expiry reminder) are written in each
customer's language when they are sent, with the facts as they are at 08:00, not at the 06:00 run."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models.message import OutboxMessage
from app.services import care, customers, outbox
from tests.care.conftest import bill, customer, line, only, rule
from tests.conftest import actor_for
from tests.messaging.conftest import senders

DAY = dt.date(2026, 3, 10)
SIX_AM = dt.datetime(2026, 3, 9, 22, 0)  # 06:00 on 10 March in Shanghai: the care job's hour
EIGHT_AM = dt.datetime(2026, 3, 10, 0, 0)


def _as_sms(code: str) -> None:
    only(code)
    rule(code).action = "sms"
    db.session.commit()


def _bodies() -> dict[str, str]:
    sent = senders()
    outbox.send_due(EIGHT_AM, senders=sent)
    return {to: body for _id, to, body in sent["sms"].sent}


def test_arrears_reminders_go_in_each_customers_language(ctx):  # noqa: ANN001
    _as_sms("arrears_reminder")
    zh, en = customer(), customer(language="en")
    for c in (zh, en):
        bill(c, DAY - dt.timedelta(days=20), total="66.00")
    result = care.run_daily(SIX_AM, today=DAY)
    assert result.messages == 2
    rows = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
    assert {m.customer_id: (m.language, m.body) for m in rows} == {zh.id: ("zh", None), en.id: ("en", None)}
    bodies = _bodies()
    assert "欠费66.00元" in bodies[zh.mobile] and "逾期20天" in bodies[zh.mobile]
    assert "CNY 66.00 overdue for 20 days" in bodies[en.mobile] and "欠费" not in bodies[en.mobile]


def test_an_arrears_reminder_says_what_is_owed_when_it_is_sent(ctx):  # noqa: ANN001
    """Queued at 06:00 (quiet hours), part paid at 07:00: the 08:00 SMS names the amount still owed."""
    _as_sms("arrears_reminder")
    c = customer(language="en")
    b = bill(c, DAY - dt.timedelta(days=20), total="66.00")
    assert care.run_daily(SIX_AM, today=DAY).messages == 1
    b.paid_amount, b.status = Decimal("20.00"), "partial"
    db.session.commit()
    assert "CNY 46.00 overdue" in _bodies()[c.mobile]


def test_a_customer_who_switches_language_after_the_run_gets_the_new_one(ctx):  # noqa: ANN001
    _as_sms("plan_expiry_reminder")
    c = customer(consent_marketing=True)
    line(c, dt.date(2025, 1, 1), expiry=DAY + dt.timedelta(days=30))
    assert care.run_daily(SIX_AM, today=DAY).messages == 1
    customers.update(c.id, {"language": "en"}, actor_for("clerk1"))
    body = _bodies()[c.mobile]
    assert "expires on 2026-04-09" in body and "Reply TD to opt out" in body
