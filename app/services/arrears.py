"""Arrears (欠费): unpaid bill amounts past their due date, and their age. Computed only here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.models.bill import Bill
from app.timefmt import business_today

# Aging buckets used wherever arrears are shown or reported (days past due).
AGING_BUCKETS = ((0, 30), (31, 60), (61, 90), (91, None))


@dataclass(frozen=True)
class Arrears:
    amount: Decimal
    bills: int
    oldest_due: dt.date | None
    age_days: int

    @property
    def has_arrears(self) -> bool:
        return self.amount > 0


def overdue_condition(today: dt.date):  # noqa: ANN201 - SQL expression
    return (Bill.status != "paid") & (Bill.due_date < today)


def for_customer(customer_id: int, today: dt.date | None = None) -> Arrears:
    today = today or business_today()
    row = db.session.execute(
        select(
            func.coalesce(func.sum(Bill.total - Bill.paid_amount), 0),
            func.count(Bill.id),
            func.min(Bill.due_date),
        ).where(Bill.customer_id == customer_id, overdue_condition(today))
    ).one()
    amount = Decimal(row[0] or 0).quantize(Decimal("0.01"))
    oldest = row[2]
    if isinstance(oldest, str):  # SQLite returns aggregates of dates as text
        oldest = dt.date.fromisoformat(oldest)
    age = (today - oldest).days if oldest else 0
    return Arrears(amount=amount, bills=int(row[1] or 0), oldest_due=oldest, age_days=age)
