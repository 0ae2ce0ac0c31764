"""Analytics tests: hand-made customers with lines, bills, usage and payments written directly,
so every date is under the test's control. Services take `today`/`now`; nothing reads the clock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from app.extensions import db
from app.models.bill import Bill
from app.models.business_change import BusinessChange
from app.models.customer import Customer
from app.models.payment import Payment
from app.models.subscription import Subscription
from app.models.usage import UsageRecord
from app.services.segments import add_months
from tests.conftest import actor_for
from tests.factories import make_customer, make_plan


class Builder:
    """Writes a customer's history: one line, monthly bills/usage/payments, arrears, closure."""

    def __init__(self) -> None:
        self.clerk = actor_for("clerk1")
        self.plans: dict[str, Any] = {}
        self._n = 0

    def plan(self, fee: str = "99.00", plan_type: str = "mobile") -> Any:
        key = f"{plan_type}:{fee}"
        if key not in self.plans:
            self.plans[key] = make_plan(actor_for("manager"), monthly_fee=fee, plan_type=plan_type)
        return self.plans[key]

    def customer(self, since: dt.date, fee: str = "99.00", expiry: dt.date | None = None,
                 owner: str | None = None, **fields: Any) -> tuple[Customer, Subscription]:
        cust = make_customer(self.clerk, **fields)
        plan = self.plan(fee)
        if owner:
            from app.extensions import appbuilder

            cust.owner_id = appbuilder.sm.find_user(username=owner).id
        cust.plan_id = plan.id
        self._n += 1
        sub = Subscription(customer_id=cust.id, plan_id=plan.id, number=cust.mobile, effective_date=since,
                           expiry_date=expiry, status="active")
        db.session.add(sub)
        db.session.commit()
        return cust, sub

    def months(self, cust: Customer, sub: Subscription, first: dt.date, last: dt.date, total: str | float,
               data_mb: int = 10240, voice: int = 300, paid: bool = True, method: str = "alipay") -> None:
        """Bills (due the 20th of the next month), usage and, if `paid`, payments for each month."""
        month = first.replace(day=1)
        while month <= last:
            due = add_months(month, 1).replace(day=20)
            amount = Decimal(str(total))
            db.session.add(Bill(customer_id=cust.id, month=month, base_fee=amount, total=amount,
                                paid_amount=amount if paid else Decimal("0"), due_date=due,
                                status="paid" if paid else "unpaid",
                                issued_at=dt.datetime.combine(add_months(month, 1), dt.time(2))))
            db.session.add(UsageRecord(customer_id=cust.id, subscription_id=sub.id, month=month,
                                       data_mb=data_mb, voice_minutes=voice,
                                       sms_count=10 if data_mb or voice else 0))
            if paid:
                db.session.add(Payment(customer_id=cust.id, amount=amount, method=method,
                                       paid_at=dt.datetime.combine(due - dt.timedelta(days=5), dt.time(3))))
            month = add_months(month, 1)
        db.session.commit()

    def usage(self, cust: Customer, sub: Subscription, month: dt.date, data_mb: int, voice: int = 300) -> None:
        rec = db.session.query(UsageRecord).filter_by(subscription_id=sub.id, month=month).one_or_none()
        if rec is None:
            db.session.add(UsageRecord(customer_id=cust.id, subscription_id=sub.id, month=month,
                                       data_mb=data_mb, voice_minutes=voice, sms_count=0))
        else:
            rec.data_mb, rec.voice_minutes = data_mb, voice
        db.session.commit()

    def close(self, cust: Customer, sub: Subscription, day: dt.date) -> None:
        db.session.add(BusinessChange(customer_id=cust.id, subscription_id=sub.id, change_type="close",
                                      before='{"status": "active"}', after='{"status": "terminated"}',
                                      effective_date=day, created_at=dt.datetime.combine(day, dt.time(3))))
        db.session.query(Customer).filter_by(id=cust.id).update({"status": "closed"})
        sub.status = "terminated"
        db.session.commit()


@pytest.fixture(autouse=True)
def _absolute_churn_threshold(app):  # noqa: ANN001, ANN202
    """Tests use an absolute "high risk" score of 0.5; the relative default has its own test."""
    app.config["CRM_CHURN_HIGH_RISK"] = 0.5
    yield
    app.config.pop("CRM_CHURN_HIGH_RISK", None)


@pytest.fixture
def build(ctx) -> Builder:  # noqa: ANN001
    return Builder()
