"""Computing the dashboards' figures (issue 6.5) and storing them as `KpiSnapshot` rows.

Every figure is one set-based aggregate over the live tables. At a million customers these take
seconds, so pages never run them: the `kpi_refresh` job stores a snapshot every few minutes, a
manager can ask for one now, and pages read the newest snapshot (see `app.services.dashboards`).

Definitions (the tests check each against a direct SQL count on hand-made data):
- active customers: `customer.status = 'active'`;
- revenue of a month: the sum of `bill.total` of bills for that month; ARPU: this month's revenue
  / active customers;
- arrears: unpaid remainder (`total - paid_amount`) of bills not paid and past due (as
  `app.services.arrears`), in aging buckets by days past due (`arrears.AGING_BUCKETS`);
- churn risk: the latest churn scores (`churn_score`) of customers not closed, in bands of 0.2;
- open tickets: status in `ticket.OPEN_STATUSES`; SLA breaches: SLA clocks still running with a
  response or resolution breach;
- care tasks: done this month (completed since the first of the month, local time) and overdue
  (open, due before today);
- churn rate of a group: closed customers / all customers of the group.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, case, delete, func, literal, or_, select

from app.extensions import db
from app.models.analytics import ChurnModelVersion, ChurnScore
from app.models.base import utcnow
from app.models.bill import BILL_STATUSES, Bill
from app.models.care import CareTask
from app.models.customer import Customer
from app.models.kpi import KPI_KINDS, KpiSnapshot
from app.models.plan import Plan
from app.models.sla import TicketSla
from app.models.ticket import OPEN_STATUSES, Ticket
from app.services import audit
from app.services.actor import SYSTEM, Actor
from app.services.arrears import AGING_BUCKETS
from app.services.errors import Invalid
from app.services.segments import add_months

KEEP_DAYS = 7  # snapshots older than this are pruned on each refresh (the newest always stays)
RISK_BANDS = ((0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, None))
# Tenure bands in months since the account was opened: (from, to) with `to` exclusive, None = open.
TENURE_BANDS = ((0, 6), (6, 12), (12, 24), (24, 36), (36, 60), (60, None))
COMPLAINT_BANDS = ((0, 0), (1, 1), (2, 2), (3, None))
ARREARS_BANDS = ((0, 0), (0, 100), (100, 500), (500, None))  # CNY; first band = no arrears
TOP_CITIES = 20
TOP_PLANS = 15


def overdue_bills(today: dt.date) -> Any:
    """Bills not paid and past due, as `arrears.overdue_condition` but as an IN on the statuses, so
    PostgreSQL can range-scan ix_bill_status_due instead of reading every bill (`!=` cannot)."""
    return Bill.status.in_([s for s in BILL_STATUSES if s != "paid"]) & (Bill.due_date < today)


def _to_utc(day: dt.date) -> dt.datetime:
    """Midnight of the operator's local `day`, as the naive UTC the database stores."""
    from app.timefmt import local_zone

    local = dt.datetime.combine(day, dt.time(0), tzinfo=local_zone())
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def _money(value: Any) -> float:
    return float(Decimal(value or 0).quantize(Decimal("0.01")))


def _band_case(column: Any, bands: tuple, inclusive_upper: bool = False) -> Any:
    """CASE expression giving the index of the band `column` falls in (bands as (lo, hi))."""
    whens = []
    for i, (lo, hi) in enumerate(bands):
        if hi is None:
            whens.append((column >= lo, i))
        elif inclusive_upper:
            whens.append((column <= hi, i))
        else:
            whens.append((column < hi, i))
    return case(*whens, else_=len(bands) - 1)


def _tenure_thresholds(today: dt.date) -> list[tuple[dt.datetime | None, dt.datetime | None]]:
    """For each tenure band, the (created after, created before) instants, both as UTC."""
    out = []
    for lo, hi in TENURE_BANDS:
        newest = _to_utc(add_months(today, -lo)) if lo else None  # created before this (≥ lo months ago)
        oldest = _to_utc(add_months(today, -hi)) if hi is not None else None  # created at or after this
        out.append((oldest, newest))
    return out


def _tenure_case(today: dt.date) -> Any:
    whens = []
    for i, (oldest, _newest) in enumerate(_tenure_thresholds(today)):
        if oldest is not None:
            whens.append((Customer.created_at >= oldest, i))
    return case(*whens, else_=len(TENURE_BANDS) - 1)


# ---- the manager home page ---------------------------------------------------------------------

def manager_kpis(today: dt.date) -> dict[str, Any]:
    session = db.session
    month = today.replace(day=1)
    last_month = add_months(month, -1)
    active = session.execute(select(func.count()).select_from(Customer).where(Customer.status == "active")
                             ).scalar() or 0
    revenue = dict(session.execute(
        select(Bill.month, func.coalesce(func.sum(Bill.total), 0))
        .where(Bill.month.in_([month, last_month])).group_by(Bill.month)
    ).all())
    revenue = {(dt.date.fromisoformat(k) if isinstance(k, str) else k): v for k, v in revenue.items()}
    this_rev, last_rev = _money(revenue.get(month)), _money(revenue.get(last_month))

    # Arrears in aging buckets, one pass over the overdue bills (ix_bill_status_due): per customer first,
    # so the same scan also gives how many customers owe in each bucket and overall.
    bucket = case(*[(Bill.due_date >= today - dt.timedelta(days=hi), i)
                    for i, (_lo, hi) in enumerate(AGING_BUCKETS) if hi is not None], else_=len(AGING_BUCKETS) - 1)
    owed = Bill.total - Bill.paid_amount
    per_customer = (
        select(*[func.sum(case((bucket == i, owed), else_=0)).label(f"a{i}") for i in range(len(AGING_BUCKETS))],
               *[func.sum(case((bucket == i, 1), else_=0)).label(f"n{i}") for i in range(len(AGING_BUCKETS))])
        .where(overdue_bills(today)).group_by(Bill.customer_id).subquery()
    )
    cols = per_customer.c
    totals = session.execute(select(
        func.count(),
        *[func.coalesce(func.sum(cols[f"a{i}"]), 0) for i in range(len(AGING_BUCKETS))],
        *[func.coalesce(func.sum(cols[f"n{i}"]), 0) for i in range(len(AGING_BUCKETS))],
        *[func.coalesce(func.sum(case((cols[f"n{i}"] > 0, 1), else_=0)), 0) for i in range(len(AGING_BUCKETS))],
    )).one()
    k = len(AGING_BUCKETS)
    arrears_customers = int(totals[0] or 0)
    aging = [{"from": lo, "to": hi, "amount": _money(totals[1 + i]), "bills": int(totals[1 + k + i]),
              "customers": int(totals[1 + 2 * k + i])} for i, (lo, hi) in enumerate(AGING_BUCKETS)]

    band = _band_case(ChurnScore.score, RISK_BANDS)
    risk_rows = dict(session.execute(
        select(band, func.count()).select_from(ChurnScore).join(Customer, Customer.id == ChurnScore.customer_id)
        .where(Customer.status != "closed").group_by(band)
    ).all())
    risk = [{"from": lo, "to": hi, "customers": int(risk_rows.get(i, 0))} for i, (lo, hi) in enumerate(RISK_BANDS)]

    open_tickets = session.execute(
        select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN_STATUSES))
    ).scalar() or 0
    breached = session.execute(
        select(func.count()).select_from(TicketSla).where(
            TicketSla.stopped_at.is_(None),
            or_(TicketSla.response_breached_at.is_not(None), TicketSla.resolve_breached_at.is_not(None)))
    ).scalar() or 0
    care_done = session.execute(
        select(func.count()).select_from(CareTask)
        .where(CareTask.status == "done", CareTask.completed_at >= _to_utc(month))
    ).scalar() or 0
    care_overdue = session.execute(
        select(func.count()).select_from(CareTask).where(CareTask.status == "open", CareTask.due_date < today)
    ).scalar() or 0
    return {
        "month": month.isoformat(), "last_month": last_month.isoformat(),
        "active_customers": int(active),
        "revenue_this_month": this_rev, "revenue_last_month": last_rev,
        "revenue_change": round((this_rev - last_rev) / last_rev, 4) if last_rev else None,
        "arpu": round(this_rev / active, 2) if active else None,
        "arrears_total": round(sum(a["amount"] for a in aging), 2),
        "arrears_bills": sum(a["bills"] for a in aging), "arrears_customers": int(arrears_customers),
        "aging": aging, "risk": risk, "scored": sum(r["customers"] for r in risk),
        "open_tickets": int(open_tickets), "sla_breached": int(breached),
        "care_done_month": int(care_done), "care_overdue": int(care_overdue),
    }


# ---- customer analysis ----------------------------------------------------------------------

def customer_analysis(today: dt.date) -> dict[str, Any]:
    session = db.session
    open_customer = Customer.status != "closed"
    segments = dict(session.execute(
        select(Customer.segment, func.count()).where(open_customer).group_by(Customer.segment)).all())
    plan_rows = session.execute(
        select(Plan.id, Plan.name, Plan.plan_type, func.count(Customer.id))
        .select_from(Customer).outerjoin(Plan, Plan.id == Customer.plan_id)
        .where(open_customer).group_by(Plan.id, Plan.name, Plan.plan_type)
        .order_by(func.count(Customer.id).desc(), Plan.name)
    ).all()
    plans = [{"id": pid, "name": name, "plan_type": ptype, "customers": int(n)} for pid, name, ptype, n in plan_rows]
    by_type: dict[str, int] = {}
    for p in plans:
        by_type[p["plan_type"] or ""] = by_type.get(p["plan_type"] or "", 0) + p["customers"]
    if len(plans) > TOP_PLANS:
        rest = sum(p["customers"] for p in plans[TOP_PLANS:])
        plans = [*plans[:TOP_PLANS], {"id": None, "name": None, "plan_type": "other", "customers": rest}]
    city_rows = session.execute(
        select(Customer.city, func.count()).where(open_customer).group_by(Customer.city)
        .order_by(func.count().desc(), Customer.city)
    ).all()
    cities = [{"city": c, "customers": int(n)} for c, n in city_rows[:TOP_CITIES]]
    if len(city_rows) > TOP_CITIES:
        cities.append({"city": None, "customers": sum(int(n) for _c, n in city_rows[TOP_CITIES:]), "other": True})
    tenure = _tenure_case(today)
    tenure_rows = dict(session.execute(select(tenure, func.count()).where(open_customer).group_by(tenure)).all())
    return {
        "customers": sum(int(n) for n in segments.values()),
        "segments": {k: int(v) for k, v in segments.items()},
        "plans": plans, "plan_types": by_type, "cities": cities,
        "tenure": [{"from": lo, "to": hi, "customers": int(tenure_rows.get(i, 0))}
                   for i, (lo, hi) in enumerate(TENURE_BANDS)],
    }


# ---- churn factors --------------------------------------------------------------------------

def _rates(rows: list[tuple[Any, Any, Any]]) -> list[dict[str, Any]]:
    out = []
    for key, total, closed in rows:
        total, closed = int(total or 0), int(closed or 0)
        out.append({"key": key, "customers": total, "churned": closed,
                    "rate": round(closed / total, 4) if total else None})
    return out


def _importances() -> dict[str, Any]:
    """How often each feature of the active model is among a scored customer's top 3 reasons.

    The reasons are the model's own per-feature contributions to each score (`churn_pipeline`), so the
    share of customers a feature raises most is the model's importance as the population sees it; it
    is one scan of `churn_score` whatever the algorithm (no model loading on a refresh)."""
    version = db.session.execute(
        select(ChurnModelVersion).where(ChurnModelVersion.active.is_(True))
        .order_by(ChurnModelVersion.version.desc()).limit(1)
    ).scalar()
    if version is None:
        return {"model": None, "importances": []}
    metrics = json.loads(version.metrics or "{}")
    feats = [*metrics.get("numeric", []), *metrics.get("categorical", [])]
    model = {"version": version.version, "algorithm": version.algorithm, "roc_auc": version.roc_auc,
             "pr_auc": version.pr_auc, "trained_at": version.trained_at.isoformat()}
    if not feats:
        return {"model": model, "importances": []}
    cols = [func.sum(case((ChurnScore.reasons.like(f'%"feature": "{f}"%'), 1), else_=0)) for f in feats]
    row = db.session.execute(
        select(func.count(), *cols).select_from(ChurnScore).where(ChurnScore.model_version_id == version.id)
    ).one()
    scored = int(row[0] or 0)
    items = [{"feature": f, "customers": int(n or 0), "share": round(int(n or 0) / scored, 4) if scored else 0.0}
             for f, n in zip(feats, row[1:], strict=True)]
    items.sort(key=lambda i: (-i["customers"], i["feature"]))
    model["scored"] = scored
    return {"model": model, "importances": items}


def churn_factors(today: dt.date) -> dict[str, Any]:
    session = db.session
    closed = func.sum(case((Customer.status == "closed", 1), else_=0))
    tenure = _tenure_case(today)
    by_tenure = {k: (n, c) for k, n, c in session.execute(
        select(tenure, func.count(), closed).group_by(tenure)).all()}
    tenure_rows = [(i, *by_tenure.get(i, (0, 0))) for i in range(len(TENURE_BANDS))]
    plan_type = func.coalesce(Plan.plan_type, literal("none"))
    plan_rows = session.execute(
        select(plan_type, func.count(Customer.id), closed).select_from(Customer)
        .outerjoin(Plan, Plan.id == Customer.plan_id).group_by(plan_type).order_by(plan_type)
    ).all()
    complaints = (select(Ticket.customer_id.label("cid"), func.count().label("n"))
                  .where(Ticket.ticket_type == "complaint").group_by(Ticket.customer_id).subquery())
    c_band = _band_case(func.coalesce(complaints.c.n, 0), COMPLAINT_BANDS, inclusive_upper=True)
    by_complaints = {k: (n, c) for k, n, c in session.execute(
        select(c_band, func.count(Customer.id), closed).select_from(Customer)
        .outerjoin(complaints, complaints.c.cid == Customer.id).group_by(c_band)).all()}
    overdue = (select(Bill.customer_id.label("cid"), func.sum(Bill.total - Bill.paid_amount).label("amount"))
               .where(overdue_bills(today)).group_by(Bill.customer_id).subquery())
    amount = func.coalesce(overdue.c.amount, 0)
    a_band = case((amount <= 0, 0), (amount <= 100, 1), (amount <= 500, 2), else_=3)
    by_arrears = {k: (n, c) for k, n, c in session.execute(
        select(a_band, func.count(Customer.id), closed).select_from(Customer)
        .outerjoin(overdue, overdue.c.cid == Customer.id).group_by(a_band)).all()}
    totals = session.execute(select(func.count(), closed).select_from(Customer)).one()
    return {
        **_importances(),
        "customers": int(totals[0] or 0), "churned": int(totals[1] or 0),
        "rate": round(int(totals[1] or 0) / int(totals[0]), 4) if totals[0] else None,
        "by_tenure": _rates(tenure_rows),
        "by_plan_type": _rates([tuple(r) for r in plan_rows]),
        "by_complaints": _rates([(i, *by_complaints.get(i, (0, 0))) for i in range(len(COMPLAINT_BANDS))]),
        "by_arrears": _rates([(i, *by_arrears.get(i, (0, 0))) for i in range(len(ARREARS_BANDS))]),
    }


COMPUTE = {"manager": manager_kpis, "customers": customer_analysis, "churn_factors": churn_factors}


# ---- storing -------------------------------------------------------------------------------

def refresh(actor: Actor = SYSTEM, now: dt.datetime | None = None,
            kinds: tuple[str, ...] | list[str] = KPI_KINDS) -> dict[str, int]:
    """Compute and store a snapshot of each kind; returns the milliseconds each took.

    A manager's refresh is audited; the scheduled job's runs are recorded by the job runner instead
    (an audit entry every few minutes would drown the log)."""
    from app.services.care import business_date

    unknown = [k for k in kinds if k not in COMPUTE]
    if unknown:
        raise Invalid({"kind": _("Not a valid choice: %(value)s.", value=", ".join(unknown))})
    now = now or utcnow()
    today = business_date(now)
    took: dict[str, int] = {}
    for kind in kinds:
        started = time.perf_counter()
        data = COMPUTE[kind](today)
        ms = int((time.perf_counter() - started) * 1000)
        db.session.add(KpiSnapshot(kind=kind, as_of=today, computed_at=now, duration_ms=ms,
                                   data=json.dumps(data, ensure_ascii=False, default=str)))
        took[kind] = ms
    db.session.flush()
    for kind in kinds:
        newest = select(func.max(KpiSnapshot.id)).where(KpiSnapshot.kind == kind).scalar_subquery()
        db.session.execute(delete(KpiSnapshot).where(
            and_(KpiSnapshot.kind == kind, KpiSnapshot.computed_at < now - dt.timedelta(days=KEEP_DAYS),
                 KpiSnapshot.id != newest)))
    if actor.id is not None:
        audit.record(actor, "kpi.refresh", "kpi_snapshot", None, {"kinds": list(kinds), "ms": took})
    db.session.commit()
    return took
