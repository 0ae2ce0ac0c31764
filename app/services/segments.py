"""Value segmentation (客户价值分群): an RFM-style score from bills, payments and usage.

Per customer (every customer not closed), from the CRM's own tables:
- spend (M): average bill total over the last `spend_months` billed months;
- tenure: months since the first line's effective date, in buckets;
- recency (R): last month with usage, or the last payment, against `active_days` / `inactive_days`;
- payment behaviour (F, as "reliability"): number of overdue unpaid bills.

Weighted into `value_score` 0-100 and mapped to a segment: `high_value` ≥ `high_value`,
`potential` ≥ `potential` (or a young customer already spending ≥ `potential_min_spend`),
`ordinary` ≥ `ordinary`, else `low_value`. `at_risk` flags inactivity, repeated overdue bills or a
sharp drop in usage. Thresholds come from `CRM_SEGMENT_SETTINGS` (a dict merged over `DEFAULTS`).

`recompute()` is set-based: one `UPDATE customer … FROM (SELECT …)` for score, segment and flag,
then one DELETE + one `INSERT … SELECT` for this month's `segment_snapshot`. No per-customer loop;
works on SQLite (≥ 3.33) and PostgreSQL.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Float, Integer, and_, case, cast, delete, func, insert, literal, or_, select, update

from app.extensions import db
from app.models.analytics import SegmentSnapshot
from app.models.base import utcnow
from app.models.bill import Bill
from app.models.customer import SEGMENTS, Customer
from app.models.payment import Payment
from app.models.subscription import Subscription
from app.models.usage import UsageRecord

DEFAULTS: dict[str, float] = {
    # Points (they add up to 100).
    "weight_spend": 50, "weight_tenure": 15, "weight_recency": 15, "weight_payment": 20,
    "spend_full": 250.0,  # average monthly bill (CNY) that earns all spend points
    "spend_months": 3,
    "active_days": 45,  # activity within this many days: all recency points
    "inactive_days": 90,  # nothing for longer than this: no recency points (in between: half)
    # Segment thresholds on the 0-100 score.
    "high_value": 80, "potential": 65, "ordinary": 45,
    # A customer younger than this (months) already spending this much is "potential".
    "potential_max_tenure_months": 12, "potential_min_spend": 100.0,
    # At-risk: this many overdue bills, or no activity for this many days, or usage fell by this share.
    "at_risk_overdue_bills": 2, "at_risk_inactive_days": 60, "at_risk_usage_drop": 0.5,
}
# Tenure buckets (months on the network → share of the tenure points).
TENURE_BUCKETS = ((36, 1.0), (24, 0.75), (12, 0.5), (6, 0.25))


def settings() -> dict[str, float]:
    """The thresholds in force: `DEFAULTS` with `CRM_SEGMENT_SETTINGS` from the app config over them."""
    out = dict(DEFAULTS)
    out.update(current_app.config.get("CRM_SEGMENT_SETTINGS") or {})
    return out


def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.year * 12 + day.month - 1 + months
    year, month = divmod(month0, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class RecomputeResult:
    customers: int
    month: dt.date

    def as_dict(self) -> dict[str, Any]:
        return {"customers": self.customers, "month": self.month.isoformat()}


def _scores_select(today: dt.date, cfg: dict[str, float]):  # noqa: ANN202 - SQL select
    """SELECT id, value_score, segment, at_risk for every customer not closed (pure SQL, no loop)."""
    this_month = today.replace(day=1)
    spend_from = add_months(this_month, -int(cfg["spend_months"]))
    # Spend: average bill total over recent billed months.
    spend = (
        select(Bill.customer_id.label("cid"), func.avg(Bill.total).label("spend"))
        .where(Bill.month >= spend_from, Bill.month < this_month)
        .group_by(Bill.customer_id).subquery("spend")
    )
    overdue = (
        select(Bill.customer_id.label("cid"), func.count(Bill.id).label("n"))
        .where(Bill.status != "paid", Bill.due_date < today)
        .group_by(Bill.customer_id).subquery("overdue")
    )
    first_line = (
        select(Subscription.customer_id.label("cid"), func.min(Subscription.effective_date).label("first"))
        .group_by(Subscription.customer_id).subquery("first_line")
    )
    m1, m4 = add_months(this_month, -1), add_months(this_month, -4)
    used = (UsageRecord.voice_minutes + UsageRecord.data_mb + UsageRecord.sms_count) > 0
    usage = (
        select(
            UsageRecord.customer_id.label("cid"),
            func.max(case((used, UsageRecord.month))).label("last_month"),
            func.sum(case((UsageRecord.month == m1, UsageRecord.data_mb), else_=0)).label("data_recent"),
            func.sum(case((and_(UsageRecord.month >= m4, UsageRecord.month < m1), UsageRecord.data_mb),
                          else_=0)).label("data_before"),
            func.sum(case((UsageRecord.month == m1, UsageRecord.voice_minutes), else_=0)).label("voice_recent"),
            func.sum(case((and_(UsageRecord.month >= m4, UsageRecord.month < m1), UsageRecord.voice_minutes),
                          else_=0)).label("voice_before"),
        )
        .where(UsageRecord.month >= m4, UsageRecord.month < this_month)
        .group_by(UsageRecord.customer_id).subquery("usage")
    )
    paid = (
        select(Payment.customer_id.label("cid"), func.max(Payment.paid_at).label("last_paid"))
        .group_by(Payment.customer_id).subquery("paid")
    )

    def days_ago(n: float) -> dt.date:
        return today - dt.timedelta(days=int(n))

    def at(n: float) -> dt.datetime:
        return dt.datetime.combine(days_ago(n), dt.time.min)

    spend_value = func.coalesce(spend.c.spend, 0)
    spend_pts = case(
        (spend_value >= cfg["spend_full"], literal(1.0)),
        else_=cast(spend_value, Float) / float(cfg["spend_full"]),
    ) * float(cfg["weight_spend"])
    tenure_pts = case(
        *[(first_line.c.first <= add_months(today, -months), literal(share)) for months, share in TENURE_BUCKETS],
        else_=literal(0.0),
    ) * float(cfg["weight_tenure"])

    def active_since(n: float):  # noqa: ANN202
        # A usage month counts as activity up to the end of that month: compare its first day with
        # the first day of the month containing the cut-off.
        return or_(usage.c.last_month >= days_ago(n).replace(day=1), paid.c.last_paid >= at(n))

    recency_pts = case(
        (active_since(cfg["active_days"]), literal(1.0)),
        (active_since(cfg["inactive_days"]), literal(0.5)),
        else_=literal(0.0),
    ) * float(cfg["weight_recency"])
    n_overdue = func.coalesce(overdue.c.n, 0)
    payment_pts = case((n_overdue == 0, literal(1.0)), (n_overdue == 1, literal(0.5)), else_=literal(0.0)) \
        * float(cfg["weight_payment"])
    score = cast(func.round(spend_pts + tenure_pts + recency_pts + payment_pts), Integer)

    drop = 1.0 - float(cfg["at_risk_usage_drop"])
    fell = or_(
        and_(usage.c.data_before > 0, usage.c.data_recent * 3 < usage.c.data_before * drop),
        and_(usage.c.voice_before > 0, usage.c.voice_recent * 3 < usage.c.voice_before * drop),
    )
    risk = case(
        (n_overdue >= int(cfg["at_risk_overdue_bills"]), literal(True)),
        (~active_since(cfg["at_risk_inactive_days"]), literal(True)),
        (fell, literal(True)),
        else_=literal(False),
    )
    young = and_(first_line.c.first.is_not(None),
                 first_line.c.first > add_months(today, -int(cfg["potential_max_tenure_months"])))
    inner = (
        select(
            Customer.id.label("id"),
            score.label("score"),
            spend_value.label("spend"),
            young.label("young"),
            risk.label("risk"),
        )
        .select_from(Customer)
        .outerjoin(spend, spend.c.cid == Customer.id)
        .outerjoin(overdue, overdue.c.cid == Customer.id)
        .outerjoin(first_line, first_line.c.cid == Customer.id)
        .outerjoin(usage, usage.c.cid == Customer.id)
        .outerjoin(paid, paid.c.cid == Customer.id)
        .where(Customer.status != "closed")
        .subquery("inner_scores")
    )
    segment = case(
        (inner.c.score >= cfg["high_value"], literal("high_value")),
        (or_(inner.c.score >= cfg["potential"],
             and_(inner.c.young, inner.c.spend >= cfg["potential_min_spend"])), literal("potential")),
        (inner.c.score >= cfg["ordinary"], literal("ordinary")),
        else_=literal("low_value"),
    )
    return select(inner.c.id, inner.c.score, segment.label("segment"), inner.c.risk).subquery("scores")


def recompute(now: dt.datetime | None = None, today: dt.date | None = None) -> RecomputeResult:
    """Recompute every open customer's score, segment and at-risk flag, and this month's snapshot."""
    now = now or utcnow()
    if today is None:
        from app.services.care import business_date

        today = business_date(now)
    cfg = settings()
    scores = _scores_select(today, cfg)
    result = db.session.execute(
        update(Customer)
        .where(Customer.id == scores.c.id)
        .values(value_score=scores.c.score, segment=scores.c.segment, at_risk=scores.c.risk,
                segment_computed_at=now)
        .execution_options(synchronize_session=False)
    )
    month = today.replace(day=1)
    db.session.execute(delete(SegmentSnapshot).where(SegmentSnapshot.month == month))
    db.session.execute(
        insert(SegmentSnapshot).from_select(
            ["month", "customer_id", "segment", "value_score", "at_risk"],
            select(literal(month, type_=SegmentSnapshot.month.type), Customer.id, Customer.segment,
                   func.coalesce(Customer.value_score, 0), Customer.at_risk)
            .where(Customer.status != "closed", Customer.segment_computed_at.is_not(None)),
        )
    )
    db.session.commit()
    return RecomputeResult(customers=result.rowcount or 0, month=month)


# ---- reporting -------------------------------------------------------------------------------

def last_computed() -> dt.datetime | None:
    """When the segments were last computed (the latest `segment_computed_at`)."""
    value = db.session.execute(select(func.max(Customer.segment_computed_at))).scalar()
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def distribution(month: dt.date | None = None) -> dict[str, dict[str, int]]:
    """{segment: {"customers": n, "at_risk": n}} for a snapshot month (default: the current values)."""
    out = {s: {"customers": 0, "at_risk": 0} for s in SEGMENTS}
    if month is None:
        rows = db.session.execute(
            select(Customer.segment, func.count(), func.sum(case((Customer.at_risk, 1), else_=0)))
            .where(Customer.status != "closed").group_by(Customer.segment)
        ).all()
    else:
        rows = db.session.execute(
            select(SegmentSnapshot.segment, func.count(),
                   func.sum(case((SegmentSnapshot.at_risk, 1), else_=0)))
            .where(SegmentSnapshot.month == month).group_by(SegmentSnapshot.segment)
        ).all()
    for seg, n, risky in rows:
        out.setdefault(seg, {"customers": 0, "at_risk": 0})
        out[seg] = {"customers": int(n), "at_risk": int(risky or 0)}
    return out


def snapshot_months(limit: int = 24) -> list[dt.date]:
    rows = db.session.execute(
        select(SegmentSnapshot.month).group_by(SegmentSnapshot.month)
        .order_by(SegmentSnapshot.month.desc()).limit(limit)
    ).scalars().all()
    return [dt.date.fromisoformat(m) if isinstance(m, str) else m for m in rows]


def movement(month: dt.date) -> dict[tuple[str | None, str], int]:
    """{(segment last month or None for new, segment this month): customers} between snapshots."""
    prev_month = add_months(month.replace(day=1), -1)
    cur = SegmentSnapshot.__table__.alias("cur")
    prev = SegmentSnapshot.__table__.alias("prev")
    rows = db.session.execute(
        select(prev.c.segment, cur.c.segment, func.count())
        .select_from(cur.outerjoin(prev, and_(prev.c.customer_id == cur.c.customer_id,
                                               prev.c.month == prev_month)))
        .where(cur.c.month == month.replace(day=1))
        .group_by(prev.c.segment, cur.c.segment)
    ).all()
    return {(a, b): int(n) for a, b, n in rows}


def monthly_distribution(months: list[dt.date]) -> dict[dt.date, dict[str, int]]:
    """{month: {segment: customers}} for the given snapshot months, in one query."""
    if not months:
        return {}
    rows = db.session.execute(
        select(SegmentSnapshot.month, SegmentSnapshot.segment, func.count())
        .where(SegmentSnapshot.month.in_(months)).group_by(SegmentSnapshot.month, SegmentSnapshot.segment)
    ).all()
    out: dict[dt.date, dict[str, int]] = {m: dict.fromkeys(SEGMENTS, 0) for m in months}
    for m, seg, n in rows:
        m = dt.date.fromisoformat(m) if isinstance(m, str) else m
        out.setdefault(m, dict.fromkeys(SEGMENTS, 0))[seg] = int(n)
    return out
