"""Dashboard tests: a small hand-made company (customers, plans, bills, tickets, SLA clocks, care tasks,
churn scores) written directly so every date is under the test's control; `NOW`/`TODAY` are fixed."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from decimal import Decimal
from typing import Any

import pytest

from app.extensions import db
from app.models.analytics import ChurnModelVersion, ChurnScore
from app.models.bill import Bill
from app.models.care import CareTask
from app.models.customer import Customer
from app.models.department import Department
from app.models.sla import TicketSla
from app.models.ticket import Ticket
from tests.conftest import actor_for
from tests.factories import make_customer, make_plan

TODAY = dt.date(2026, 7, 15)
NOW = dt.datetime(2026, 7, 15, 2, 0)  # 10:00 on the 15th in Asia/Shanghai
_seq = itertools.count(1)


class Company:
    def __init__(self) -> None:
        self.clerk = actor_for("clerk1")
        self.manager = actor_for("manager")
        self.plans: dict[str, Any] = {}

    def plan(self, plan_type: str = "mobile") -> Any:
        if plan_type not in self.plans:
            self.plans[plan_type] = make_plan(self.manager, plan_type=plan_type)
        return self.plans[plan_type]

    def customer(self, status: str = "active", plan_type: str | None = "mobile", city: str = "北京",
                 segment: str = "ordinary", created: dt.datetime | None = None) -> Customer:
        cust = make_customer(self.clerk, city=city)
        cust.status = status
        cust.segment = segment
        cust.plan_id = self.plan(plan_type).id if plan_type else None
        if created is not None:
            cust.created_at = created
        db.session.commit()
        return cust

    def bill(self, cust: Customer, month: dt.date, total: str, paid: str = "0", due: dt.date | None = None) -> Bill:
        total_d, paid_d = Decimal(total), Decimal(paid)
        status = "paid" if paid_d >= total_d else ("partial" if paid_d else "unpaid")
        b = Bill(customer_id=cust.id, month=month, base_fee=total_d, total=total_d, paid_amount=paid_d,
                 due_date=due or month.replace(day=28), status=status,
                 issued_at=dt.datetime.combine(month, dt.time(2)))
        db.session.add(b)
        db.session.commit()
        return b

    def ticket(self, cust: Customer, status: str = "new", ticket_type: str = "fault") -> Ticket:
        dept = db.session.query(Department).first()
        t = Ticket(ticket_no=f"T{next(_seq):08d}", channel="phone", ticket_type=ticket_type, status=status,
                   customer_id=cust.id, subject="test", description="", department_id=dept.id)
        db.session.add(t)
        db.session.commit()
        return t

    def sla(self, ticket: Ticket, breached: bool, stopped: bool = False) -> TicketSla:
        start = NOW - dt.timedelta(hours=10)
        s = TicketSla(ticket_id=ticket.id, ticket_type=ticket.ticket_type, response_minutes=60, resolve_minutes=240,
                      started_at=start, response_warn_at=start, response_due=start + dt.timedelta(hours=1),
                      resolve_warn_at=start, resolve_due=start + dt.timedelta(hours=4),
                      resolve_breached_at=start + dt.timedelta(hours=4) if breached else None,
                      stopped_at=NOW if stopped else None)
        db.session.add(s)
        db.session.commit()
        return s

    def task(self, cust: Customer, status: str, due: dt.date, completed: dt.datetime | None = None) -> CareTask:
        t = CareTask(customer_id=cust.id, occurrence_key=f"test:{next(_seq)}", due_date=due, status=status,
                     completed_at=completed, outcome="reached" if status == "done" else None)
        db.session.add(t)
        db.session.commit()
        return t

    def scores(self, pairs: list[tuple[Customer, float, list[str]]]) -> ChurnModelVersion:
        v = ChurnModelVersion(version=1, algorithm="logistic", roc_auc=0.8, pr_auc=0.4, artifact=b"x", active=True,
                              metrics=json.dumps({"numeric": ["tenure_months", "arrears_amount"],
                                                  "categorical": ["plan_type"]}))
        db.session.add(v)
        db.session.flush()
        for cust, score, feats in pairs:
            db.session.add(ChurnScore(customer_id=cust.id, model_version_id=v.id, score=score, scored_at=NOW,
                                      reasons=json.dumps([{"feature": f, "value": 1} for f in feats])))
        db.session.commit()
        return v


@pytest.fixture
def company(ctx) -> Company:  # noqa: ANN001
    return Company()
