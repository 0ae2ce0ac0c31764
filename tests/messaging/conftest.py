"""Messaging tests: the shipped templates as each test's starting point, a clock, and fake senders."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models.message import MessageTemplate, OutboxMessage

# 10:00 in Asia/Shanghai (outside quiet hours).
NOW = dt.datetime(2026, 3, 2, 2, 0)


@pytest.fixture(autouse=True)
def _fresh_templates(app):  # noqa: ANN001, ANN201
    yield
    from app.services.templates import ensure_defaults

    with app.app_context():
        db.session.rollback()
        db.session.execute(text("DELETE FROM message_template"))
        db.session.commit()
        ensure_defaults()


class RecordingSender:
    def __init__(self, channel: str = "sms", fail: bool = False) -> None:
        self.channel = channel
        self.fail = fail
        self.sent: list[tuple[int, str, str]] = []

    def send(self, message: Any) -> None:
        if self.fail:
            raise ConnectionError("gateway down")
        self.sent.append((message.id, message.recipient, message.body))


def senders(fail: bool = False) -> dict[str, RecordingSender]:
    return {"sms": RecordingSender("sms", fail), "email": RecordingSender("email", fail)}


def messages(**where: Any) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(OutboxMessage, key) == value)
    return list(db.session.execute(stmt).scalars())


def template(code: str, language: str = "zh") -> MessageTemplate:
    return db.session.execute(select(MessageTemplate).where(
        MessageTemplate.code == code, MessageTemplate.language == language)).scalar_one()


def plan(code: str, data_gb: int, fee: str, name: str | None = None, plan_type: str = "mobile") -> Any:
    from decimal import Decimal

    from app.models.plan import Plan

    p = Plan(code=code, name=name or f"套餐{code}", plan_type=plan_type, monthly_fee=Decimal(fee),
             data_mb=data_gb * 1024, voice_minutes=300, sms_count=100, active=True)
    db.session.add(p)
    db.session.commit()
    return p


def give_line(customer: Any, p: Any, effective: dt.date, expiry: dt.date | None = None) -> Any:
    from app.models.subscription import Subscription

    s = Subscription(customer_id=customer.id, plan_id=p.id, number=customer.mobile, effective_date=effective,
                     expiry_date=expiry, status="active")
    db.session.add(s)
    customer.plan_id = p.id
    db.session.commit()
    return s


def usage(customer: Any, line: Any, month: dt.date, data_mb: int) -> None:
    from app.models.usage import UsageRecord

    db.session.add(UsageRecord(customer_id=customer.id, subscription_id=line.id, month=month, data_mb=data_mb,
                               voice_minutes=100, sms_count=5))
    db.session.commit()


def overdue_bill(customer: Any, due: dt.date, total: str) -> None:
    from decimal import Decimal

    from app.models.bill import Bill

    month = (due.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    db.session.add(Bill(customer_id=customer.id, month=month, base_fee=Decimal(total), total=Decimal(total),
                        paid_amount=Decimal("0"), due_date=due, status="unpaid"))
    db.session.commit()
