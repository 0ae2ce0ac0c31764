"""The anonymised analytics export (issue 6.6): one row per customer for data analysts, no identity.

Each row carries a pseudonymous customer key — HMAC-SHA256 of the customer id under a key derived
from the field key for this one purpose — so the same customer has the same key in every export
(analysts can join exports month over month) while the key cannot be turned back into the id
without the field key. No name, resident ID, mobile, e-mail or address leaves; birth date is cut to
the year. Only customers who consented to analytics use (`consent_analytics`) are exported: a
pseudonymous key is still personal information under PIPL, so the consent applies.

Rows are read set-based (per-customer aggregates joined once) and streamed like the list exports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Date, cast, func, select

from app.extensions import db
from app.models.analytics import ChurnScore
from app.models.bill import Bill
from app.models.customer import Customer
from app.models.plan import Plan
from app.models.ticket import Ticket
from app.services import list_export
from app.services.actor import Actor
from app.services.crypto import cipher
from app.services.errors import Forbidden

EXPORT_ROLES = ("Admin", "Manager")
KEY_LABEL = b"crm-analytics-pseudonym-v1"
# How many recent billed months make the monthly ARPU.
ARPU_MONTHS = 3
COLUMNS = ("customer_key", "birth_year", "gender", "segment", "city", "plan", "plan_type", "tenure_months",
           "monthly_arpu", "tickets", "churn_score", "status")


def pseudonym_key() -> bytes:
    """The dedicated HMAC key: derived from the current field key, used for nothing else."""
    return cipher().derived_keys(KEY_LABEL)[0]


def customer_key(customer_id: int, key: bytes | None = None) -> str:
    """The pseudonymous key of a customer: stable for a field key, not reversible without it."""
    digest = hmac.new(key or pseudonym_key(), str(customer_id).encode("ascii"), hashlib.sha256).hexdigest()
    return digest[:24]  # 96 bits: collision-free at any realistic customer count, shorter to read


def _month_start(day: dt.date, back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _tenure_months(created: dt.datetime | None, today: dt.date) -> int | None:
    if created is None:
        return None
    months = (today.year - created.year) * 12 + today.month - created.month
    if today.day < created.day:
        months -= 1
    return max(months, 0)


def query(today: dt.date) -> Any:
    """One statement: customer fields + ARPU + ticket count + churn score, in id order."""
    since = _month_start(today, ARPU_MONTHS)
    arpu = (
        select(Bill.customer_id.label("cid"), func.avg(Bill.total).label("arpu"))
        .where(Bill.month >= cast(since, Date))
        .group_by(Bill.customer_id)
        .subquery("arpu")
    )
    tickets = (
        select(Ticket.customer_id.label("cid"), func.count().label("n"))
        .group_by(Ticket.customer_id)
        .subquery("tickets")
    )
    return (
        select(
            Customer.id, Customer.birth_date, Customer.gender, Customer.segment, Customer.city, Plan.name,
            Plan.plan_type, Customer.created_at, arpu.c.arpu, tickets.c.n, ChurnScore.score, Customer.status,
        )
        .outerjoin(Plan, Plan.id == Customer.plan_id)
        .outerjoin(arpu, arpu.c.cid == Customer.id)
        .outerjoin(tickets, tickets.c.cid == Customer.id)
        .outerjoin(ChurnScore, ChurnScore.customer_id == Customer.id)
        .where(Customer.consent_analytics.is_(True))
        .order_by(Customer.id)
    )


def rows(today: dt.date) -> Iterator[tuple[Any, ...]]:
    key = pseudonym_key()
    cent = Decimal("0.01")
    result = db.session.execute(query(today).execution_options(yield_per=list_export.BATCH))
    for (cid, birth, gender, segment, city, plan, plan_type, created, arpu, n_tickets, score,
         status) in result:
        yield (
            customer_key(cid, key),
            birth.year if birth else None,
            gender,
            segment,
            city,
            plan,
            plan_type,
            _tenure_months(created, today),
            Decimal(arpu).quantize(cent, ROUND_HALF_UP) if arpu is not None else None,
            int(n_tickets or 0),
            round(float(score), 4) if score is not None else None,
            status,
        )


def export(actor: Actor, fmt: str, today: dt.date) -> Iterator[bytes]:
    """The anonymised file (CSV/XLSX), streamed and audited (Manager/Admin only)."""
    if not actor.has_role(*EXPORT_ROLES):
        raise Forbidden()
    return list_export.stream(actor, fmt, "anonymised_customers", list(COLUMNS), rows(today),
                              {"as_of": today.isoformat(), "consent": "analytics"}, sheet="customers")
