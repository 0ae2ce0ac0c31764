"""Everything the customer 360 page shows, gathered in one read-only service."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models.bill import Bill
from app.models.business_change import BusinessChange
from app.models.customer import Customer
from app.models.payment import Payment
from app.models.subscription import Subscription, SubscriptionVas
from app.models.usage import UsageRecord
from app.services import arrears, customers
from app.services.actor import Actor
from app.timefmt import business_today


def months_back(today: dt.date, n: int) -> list[dt.date]:
    """The first days of the last `n` calendar months, oldest first, ending with last month."""
    first = today.replace(day=1)
    out = []
    for _ in range(n):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        out.append(first)
    return list(reversed(out))


@dataclass
class Customer360:
    customer: Customer
    subscriptions: list[Subscription]
    vas: list[SubscriptionVas]
    usage_months: list[str]
    usage_voice: list[int]
    usage_sms: list[int]
    usage_data_gb: list[float]
    bills: list[Bill]
    payments: list[Payment]
    arrears: arrears.Arrears
    changes: list[dict[str, Any]]
    care_tasks: list[dict[str, Any]] = field(default_factory=list)  # open care tasks the actor may see
    churn: Any = None  # churn score with its top 3 reasons (churn.for_customer), None if not scored
    tickets: dict[str, Any] = field(default_factory=dict)  # service tickets and CSAT (tickets.customer_summary)
    sales: dict[str, Any] = field(default_factory=dict)  # opportunities and contact logs the actor may see


def _decode(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _churn(customer_id: int) -> Any:
    from app.services import churn

    return churn.for_customer(customer_id)


def load(customer_id: int, actor: Actor, today: dt.date | None = None) -> Customer360:
    today = today or business_today()
    customer = customers.get(customer_id, actor)
    subs = db.session.execute(
        select(Subscription).options(selectinload(Subscription.plan))
        .where(Subscription.customer_id == customer.id).order_by(Subscription.effective_date.desc())
    ).scalars().all()
    vas = db.session.execute(
        select(SubscriptionVas).options(selectinload(SubscriptionVas.vas))
        .join(Subscription).where(Subscription.customer_id == customer.id, SubscriptionVas.status == "active")
    ).scalars().all()
    months = months_back(today, 12)
    usage = db.session.execute(
        select(UsageRecord).where(UsageRecord.customer_id == customer.id, UsageRecord.month >= months[0])
    ).scalars().all()
    by_month: dict[dt.date, list[int]] = {m: [0, 0, 0] for m in months}
    for rec in usage:
        if rec.month in by_month:
            slot = by_month[rec.month]
            slot[0] += rec.voice_minutes
            slot[1] += rec.sms_count
            slot[2] += rec.data_mb
    bills = db.session.execute(
        select(Bill).options(selectinload(Bill.lines)).where(Bill.customer_id == customer.id)
        .order_by(Bill.month.desc()).limit(12)
    ).scalars().all()
    payments = db.session.execute(
        select(Payment).where(Payment.customer_id == customer.id).order_by(Payment.paid_at.desc()).limit(20)
    ).scalars().all()
    changes = db.session.execute(
        select(BusinessChange).options(selectinload(BusinessChange.operator))
        .where(BusinessChange.customer_id == customer.id)
        .order_by(BusinessChange.created_at.desc(), BusinessChange.id.desc()).limit(50)
    ).scalars().all()
    return Customer360(
        care_tasks=_care_tasks(customer.id, actor),
        churn=_churn(customer.id),
        tickets=_tickets(customer.id, actor),
        sales=_sales(customer.id, actor),
        customer=customer,
        subscriptions=list(subs),
        vas=list(vas),
        usage_months=[m.strftime("%Y-%m") for m in months],
        usage_voice=[by_month[m][0] for m in months],
        usage_sms=[by_month[m][1] for m in months],
        usage_data_gb=[round(by_month[m][2] / 1024, 2) for m in months],
        bills=list(bills),
        payments=list(payments),
        arrears=arrears.for_customer(customer.id, today),
        changes=[
            {
                "change": c,
                "before": _decode(c.before),
                "after": _decode(c.after),
            }
            for c in changes
        ],
    )


def _care_tasks(customer_id: int, actor: Actor) -> list[dict[str, Any]]:
    from flask_babel import gettext

    from app.services import care

    return [{"task": t, "reason": care.reason(t),
             "rule": gettext(t.rule.name) if t.rule else gettext("Sales follow-up")}  # a sales contact's follow-up
            for t in care.open_tasks_for_customer(customer_id, actor)]


def _sales(customer_id: int, actor: Actor) -> dict[str, Any]:
    from app.models.opportunity import Opportunity
    from app.security.access import scope_sales
    from app.services import contact_logs

    opps = db.session.execute(scope_sales(select(Opportunity).where(Opportunity.customer_id == customer_id), actor,
                                          Opportunity).order_by(Opportunity.id.desc()).limit(20)).scalars().all()
    return {"opportunities": list(opps), "logs": contact_logs.for_target(actor, customer_id=customer_id, limit=10)}


def _tickets(customer_id: int, actor: Actor) -> dict[str, Any]:
    from app.services import tickets

    return tickets.customer_summary(customer_id, actor)
