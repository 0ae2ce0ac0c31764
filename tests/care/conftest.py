"""Care tests: builders that write rows directly (dates under test control), and a rule reset.

Every test starts with the shipped rules, unevaluated (no watermark). Services take `today`/`now`,
so no test depends on the wall clock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, text, update

from app.extensions import db
from app.models.bill import Bill
from app.models.care import CareRule, CareTask
from app.models.customer import Customer
from app.models.subscription import Subscription
from tests.conftest import actor_for
from tests.factories import make_customer, make_plan

NOW = dt.datetime(2026, 3, 1, 0, 0)  # 08:00 in Asia/Shanghai


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


def rule(code: str) -> CareRule:
    return db.session.execute(select(CareRule).where(CareRule.code == code)).scalar_one()


def only(*codes: str) -> None:
    """Enable just these rules."""
    db.session.execute(update(CareRule).values(enabled=CareRule.code.in_(codes)))
    db.session.commit()


def run(day: dt.date) -> Any:
    from app.services import care

    return care.run_daily(dt.datetime.combine(day, dt.time(0, 0)), today=day)


def run_days(first: dt.date, last: dt.date) -> dict[dt.date, int]:
    """Run the daily job once per day; returns the tasks created on each day."""
    created = {}
    day = first
    while day <= last:
        created[day] = run(day).created
        day += dt.timedelta(days=1)
    return {d: n for d, n in created.items() if n}


def tasks(**where: Any) -> list[CareTask]:
    db.session.expire_all()
    stmt = select(CareTask).order_by(CareTask.due_date, CareTask.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(CareTask, key) == value)
    return list(db.session.execute(stmt).scalars())


def customer(username: str = "sales1", created: dt.date | None = None, **overrides: Any) -> Customer:
    c = make_customer(actor_for(username), **overrides)
    if created is not None:
        # 10:00 Beijing time on that day, stored as naive UTC
        c.created_at = dt.datetime.combine(created, dt.time(2, 0))
        db.session.commit()
    return c


_plan: dict[str, int] = {}


def line(c: Customer, effective: dt.date, expiry: dt.date | None = None, status: str = "active") -> Subscription:
    plan = make_plan(actor_for("manager"))
    s = Subscription(customer_id=c.id, plan_id=plan.id, number=c.mobile, effective_date=effective,
                     expiry_date=expiry, status=status)
    db.session.add(s)
    c.plan_id = plan.id
    db.session.commit()
    return s


def bill(c: Customer, due: dt.date, total: str = "100.00", paid: str = "0", status: str | None = None) -> Bill:
    month = (due.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    b = Bill(customer_id=c.id, month=month, base_fee=Decimal(total), total=Decimal(total),
             paid_amount=Decimal(paid), due_date=due,
             status=status or ("paid" if Decimal(paid) >= Decimal(total) else "unpaid" if not Decimal(paid)
                               else "partial"))
    db.session.add(b)
    db.session.commit()
    return b


def add_task(c: Customer, code: str, due: dt.date, assignee: str | None, key: str | None = None,
             status: str = "open") -> CareTask:
    r = rule(code)
    t = CareTask(rule_id=r.id, customer_id=c.id, occurrence_key=key or f"t{due.isoformat()}", due_date=due,
                 assignee_id=actor_for(assignee).id if assignee else None, status=status)
    db.session.add(t)
    db.session.commit()
    return t


def values(obj: Any, *fields: str) -> SimpleNamespace:
    return SimpleNamespace(**{f: getattr(obj, f) for f in fields})
