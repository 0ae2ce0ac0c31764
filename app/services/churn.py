"""Churn risk (流失预警): features from the CRM's own tables, training, versions, scores and reasons.

Features of a customer "as of" a day use only data before that day: tenure, plan type and fee,
data and voice use over the last three months and their trend, arrears and overdue bills, contract
(and days to its end), VAS count, the latest payment method, unsuccessful care contacts, and — when
the service desk's `ticket` table exists — tickets, complaints and transfers in the last 90 days.

Training (`train`) stacks several past snapshots: the customers open at each cut-off day, labelled 1
when they closed their account (a `close` business change on a now-closed customer) within
`HORIZON_MONTHS` after it. Both candidates of `churn_pipeline` are cross-validated; the better one is
fitted on everything and stored as a new `ChurnModelVersion` (metrics included) and made active.
`score_all` scores every open customer with the active version and keeps the top 3 reasons.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, insert, inspect, or_, select, text, update

from app.extensions import db
from app.models.analytics import ChurnModelVersion, ChurnScore
from app.models.base import utcnow
from app.models.bill import Bill
from app.models.business_change import BusinessChange
from app.models.care import CareTask
from app.models.customer import Customer
from app.models.payment import Payment
from app.models.plan import Plan
from app.models.subscription import Subscription, SubscriptionVas
from app.models.usage import UsageRecord
from app.services import audit
from app.services.actor import SYSTEM, Actor
from app.services.errors import Invalid
from app.services.segments import add_months

HORIZON_MONTHS = 3
SNAPSHOTS = 4  # training cut-offs: 3, 6, 9 and 12 months before this month
MIN_POSITIVES = 5
MAX_TRAIN_ROWS = 200_000  # larger histories keep every churner and a sample of the others
HIGH_RISK = 0.5  # "high risk" before any scoring run has set a cut-off
# By default "high risk" is relative: the riskiest CRM_CHURN_HIGH_RISK_SHARE of scored customers (churn is
# rare, so probabilities are small); CRM_CHURN_HIGH_RISK sets an absolute score instead.
HIGH_RISK_SHARE = 0.10
HIGH_VALUE_SEGMENTS = ("high_value",)  # CRM_CHURN_HIGH_VALUE_SEGMENTS overrides
FAILED_OUTCOMES = ("not_reached", "refused", "complaint")

NUMERIC = ["tenure_months", "monthly_fee", "data_gb_avg", "data_trend", "voice_trend", "arrears_amount",
           "overdue_bills", "days_to_expiry", "vas_count", "failed_contacts"]
TICKET_NUMERIC = ["tickets_90d", "complaints_90d", "transfers_90d"]
CATEGORICAL = ["plan_type", "contract", "payment_method"]

# Plain-words reason for each feature (English msgids; zh in translations). `%(value)s` is formatted.
REASON_TEXT = {
    "tenure_months": _l("Tenure of %(value)s months"),
    "monthly_fee": _l("Monthly fee of ¥%(value)s"),
    "data_gb_avg": _l("Data use of %(value)s GB a month"),
    "data_trend": _l("Data use changed by %(value)s over 3 months"),
    "voice_trend": _l("Voice use changed by %(value)s over 3 months"),
    "arrears_amount": _l("Arrears of ¥%(value)s"),
    "overdue_bills": _l("%(value)s overdue bill(s)"),
    "days_to_expiry": _l("Contract ends in %(value)s days"),
    "vas_count": _l("%(value)s value-added service(s)"),
    "failed_contacts": _l("%(value)s unsuccessful care contact(s) in 6 months"),
    "tickets_90d": _l("%(value)s service ticket(s) in 90 days"),
    "complaints_90d": _l("%(value)s complaint(s) in 90 days"),
    "transfers_90d": _l("%(value)s ticket transfer(s) in 90 days"),
    "plan_type": _l("Plan type: %(value)s"),
    "payment_method": _l("Pays by %(value)s"),
}
NO_CONTRACT = _l("No contract commitment")
UNDER_CONTRACT = _l("Under contract")
NO_PAYMENTS = _l("No payments recorded")


def high_risk_threshold() -> float:
    """The score from which a customer is "high risk": configured, or the last scoring run's cut-off."""
    configured = current_app.config.get("CRM_CHURN_HIGH_RISK")
    if configured is not None:
        return float(configured)
    raw = db.session.execute(
        select(ChurnModelVersion.metrics).where(ChurnModelVersion.active.is_(True))
        .order_by(ChurnModelVersion.version.desc()).limit(1)
    ).scalar()
    try:
        cutoff = json.loads(raw or "{}").get("high_risk_cutoff")
    except ValueError:
        cutoff = None
    return float(cutoff) if cutoff is not None else HIGH_RISK


def _relative_cutoff(scored: int) -> float | None:
    """The score of the customer at the top CRM_CHURN_HIGH_RISK_SHARE of this run (one indexed query)."""
    if not scored:
        return None
    share = float(current_app.config.get("CRM_CHURN_HIGH_RISK_SHARE", HIGH_RISK_SHARE))
    k = max(0, math.ceil(scored * share) - 1)
    return db.session.execute(select(ChurnScore.score).order_by(ChurnScore.score.desc()).offset(k).limit(1)).scalar()


def high_value_segments() -> tuple[str, ...]:
    return tuple(current_app.config.get("CRM_CHURN_HIGH_VALUE_SEGMENTS", HIGH_VALUE_SEGMENTS))


# ---- features ------------------------------------------------------------------------------

def has_tickets() -> bool:
    """Whether the service desk's tables exist in this database (the feature is optional)."""
    try:
        names = set(inspect(db.engine).get_table_names())
    except Exception:  # noqa: BLE001 - no inspector: treat as absent
        return False
    return {"ticket"} <= names


def features(as_of: dt.date, customer_ids: list[int] | None = None, training: bool = False) -> Any:
    """DataFrame indexed by customer id: the model's features from data before `as_of`.

    Scoring (`training=False`): every customer not closed. Training: customers with a line that
    started before `as_of` and no account closure before it.
    """
    import numpy as np
    import pandas as pd

    session = db.session
    start = dt.datetime.combine(as_of, dt.time.min)
    base = (
        select(Customer.id, Plan.plan_type, Plan.monthly_fee, Customer.status)
        .select_from(Customer).outerjoin(Plan, Plan.id == Customer.plan_id)
    )
    if not training:
        base = base.where(Customer.status != "closed")
    if customer_ids is not None:
        base = base.where(Customer.id.in_(customer_ids))
    frame = pd.DataFrame(session.execute(base).all(), columns=["id", "plan_type", "monthly_fee", "status"])
    frame = frame.set_index("id")
    if frame.empty:
        return frame

    def merge(rows: list, cols: list[str]) -> None:
        nonlocal frame
        part = pd.DataFrame(rows, columns=["id", *cols]).set_index("id") if rows else \
            pd.DataFrame(columns=cols, index=pd.Index([], name="id"))
        frame = frame.join(part, how="left")

    first = session.execute(
        select(Subscription.customer_id, func.min(Subscription.effective_date))
        .where(Subscription.effective_date < as_of).group_by(Subscription.customer_id)
    ).all()
    merge(first, ["first_line"])
    if training:
        closed = session.execute(
            select(BusinessChange.customer_id, func.max(BusinessChange.effective_date))
            .join(Customer, Customer.id == BusinessChange.customer_id)
            .where(BusinessChange.change_type == "close", Customer.status == "closed")
            .group_by(BusinessChange.customer_id)
        ).all()
        merge(closed, ["closed_on"])
        frame["closed_on"] = pd.to_datetime(frame["closed_on"], errors="coerce")
        frame = frame[frame["first_line"].notna()
                      & ~(frame["closed_on"].notna() & (frame["closed_on"] < pd.Timestamp(as_of)))]
        if frame.empty:
            return frame

    this_month = as_of.replace(day=1)
    months = [add_months(this_month, -k) for k in (3, 2, 1)]
    usage = session.execute(
        select(UsageRecord.customer_id,
               *[func.sum(func.coalesce(_when(UsageRecord.month == m, UsageRecord.data_mb), 0)) for m in months],
               *[func.sum(func.coalesce(_when(UsageRecord.month == m, UsageRecord.voice_minutes), 0))
                 for m in months])
        .where(UsageRecord.month >= months[0], UsageRecord.month < this_month)
        .group_by(UsageRecord.customer_id)
    ).all()
    merge(usage, ["d3", "d2", "d1", "v3", "v2", "v1"])
    overdue = session.execute(
        select(Bill.customer_id, func.sum(Bill.total - Bill.paid_amount), func.count(Bill.id))
        .where(Bill.status != "paid", Bill.due_date < as_of, Bill.month < this_month)
        .group_by(Bill.customer_id)
    ).all()
    merge(overdue, ["arrears_amount", "overdue_bills"])
    expiry = session.execute(
        select(Subscription.customer_id, func.min(Subscription.expiry_date))
        .where(Subscription.expiry_date >= as_of, Subscription.effective_date < as_of)
        .group_by(Subscription.customer_id)
    ).all()
    merge(expiry, ["expiry"])
    vas = session.execute(
        select(Subscription.customer_id, func.count(SubscriptionVas.id))
        .join(Subscription, Subscription.id == SubscriptionVas.subscription_id)
        .where(SubscriptionVas.start_date < as_of,
               or_(SubscriptionVas.end_date.is_(None), SubscriptionVas.end_date >= as_of))
        .group_by(Subscription.customer_id)
    ).all()
    merge(vas, ["vas_count"])
    last_paid = (
        select(Payment.customer_id.label("cid"), func.max(Payment.paid_at).label("at"))
        .where(Payment.paid_at < start, Payment.paid_at >= start - dt.timedelta(days=180))
        .group_by(Payment.customer_id).subquery()
    )
    methods = session.execute(
        select(Payment.customer_id, func.max(Payment.method))
        .join(last_paid, and_(last_paid.c.cid == Payment.customer_id, last_paid.c.at == Payment.paid_at))
        .group_by(Payment.customer_id)
    ).all()
    merge(methods, ["payment_method"])
    contacts = session.execute(
        select(CareTask.customer_id, func.count(CareTask.id))
        .where(CareTask.outcome.in_(FAILED_OUTCOMES), CareTask.updated_at < start,
               CareTask.updated_at >= start - dt.timedelta(days=180))
        .group_by(CareTask.customer_id)
    ).all()
    merge(contacts, ["failed_contacts"])
    with_tickets = has_tickets()
    if with_tickets:
        params = {"a": start - dt.timedelta(days=90), "b": start}
        tickets = session.execute(text(
            "SELECT customer_id, COUNT(*), SUM(CASE WHEN ticket_type = 'complaint' THEN 1 ELSE 0 END) "
            "FROM ticket WHERE created_at >= :a AND created_at < :b GROUP BY customer_id"), params).all()
        merge([tuple(r) for r in tickets], ["tickets_90d", "complaints_90d"])
        transfers = session.execute(text(
            "SELECT t.customer_id, COUNT(*) FROM ticket_transfer x JOIN ticket t ON t.id = x.ticket_id "
            "WHERE x.at >= :a AND x.at < :b GROUP BY t.customer_id"), params).all() \
            if "ticket_transfer" in set(inspect(db.engine).get_table_names()) else []
        merge([tuple(r) for r in transfers], ["transfers_90d"])

    out = pd.DataFrame(index=frame.index)
    first_line = pd.to_datetime(frame["first_line"], errors="coerce")
    out["tenure_months"] = ((pd.Timestamp(as_of) - first_line).dt.days / 30.44).round(1)
    out["monthly_fee"] = _num(frame["monthly_fee"], None)
    for col in ("d3", "d2", "d1", "v3", "v2", "v1"):
        frame[col] = _num(frame[col])
    out["data_gb_avg"] = ((frame["d3"] + frame["d2"] + frame["d1"]) / 3 / 1024).round(2)
    out["data_trend"] = _trend(frame["d1"], frame["d3"])
    out["voice_trend"] = _trend(frame["v1"], frame["v3"])
    out["arrears_amount"] = _num(frame["arrears_amount"])
    out["overdue_bills"] = _num(frame["overdue_bills"])
    expiry = pd.to_datetime(frame["expiry"], errors="coerce")
    out["days_to_expiry"] = (expiry - pd.Timestamp(as_of)).dt.days.astype(float)  # NaN: no contract
    out["vas_count"] = _num(frame["vas_count"])
    out["failed_contacts"] = _num(frame["failed_contacts"])
    if with_tickets:
        for col in TICKET_NUMERIC:
            out[col] = _num(frame[col])
    out["plan_type"] = frame["plan_type"].fillna("none").astype(str)
    out["contract"] = np.where(expiry.notna(), "contract", "none")
    out["payment_method"] = frame["payment_method"].fillna("none").astype(str)
    if training:
        closed_on = frame["closed_on"]
        horizon_end = pd.Timestamp(add_months(as_of, HORIZON_MONTHS))
        out["label"] = (closed_on.notna() & (closed_on >= pd.Timestamp(as_of))
                        & (closed_on < horizon_end)).astype(int)
    return out


def _num(series: Any, fill: float | None = 0.0) -> Any:
    """Floats from database numbers (Decimal, int, None); missing → `fill` (None keeps NaN)."""
    import pandas as pd

    out = pd.to_numeric(series.map(lambda v: float(v) if v is not None and v == v else None),
                        errors="coerce").astype(float)
    return out if fill is None else out.fillna(fill)


def _when(cond: Any, value: Any) -> Any:
    from sqlalchemy import case

    return case((cond, value), else_=0)


def _trend(last: Any, first: Any) -> Any:
    """Relative change from the first to the last of three months (−1 … +2), 0 when both are 0."""
    import numpy as np

    change = (last - first) / first.where(first > 0, np.nan)
    change = change.where(first > 0, np.where(last > 0, 1.0, 0.0))
    return change.clip(-1, 2).round(3)


def feature_columns(frame: Any) -> tuple[list[str], list[str]]:
    numeric = [c for c in NUMERIC + TICKET_NUMERIC if c in frame.columns]
    return numeric, [c for c in CATEGORICAL if c in frame.columns]


# ---- training --------------------------------------------------------------------------------

def training_set(today: dt.date) -> Any:
    import pandas as pd

    month = today.replace(day=1)
    parts = []
    for k in range(1, SNAPSHOTS + 1):
        as_of = add_months(month, -HORIZON_MONTHS * k)
        part = features(as_of, training=True)
        if not part.empty:
            parts.append(part)
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)


def _sample(data: Any) -> tuple[Any, float]:
    """At most MAX_TRAIN_ROWS rows: every churner and a fixed random share of the others."""
    if len(data) <= MAX_TRAIN_ROWS:
        return data, 1.0
    import pandas as pd

    pos, neg = data[data["label"] == 1], data[data["label"] == 0]
    share = max(1, MAX_TRAIN_ROWS - len(pos)) / len(neg)
    return pd.concat([pos, neg.sample(frac=share, random_state=0)]).sort_index(), share


def train(now: dt.datetime | None = None, actor: Actor = SYSTEM, trained_by: str | None = None) -> ChurnModelVersion:
    """Cross-validate both candidates on the CRM's history, fit the better one, store it as active."""
    from app.services import churn_pipeline as cp

    now = now or utcnow()
    today = _business_date(now)
    data = training_set(today)
    positives = int(data["label"].sum()) if not data.empty else 0
    if data.empty or positives < MIN_POSITIVES or positives > len(data) - MIN_POSITIVES:
        raise Invalid({"data": _("Not enough history to train a churn model: %(pos)d closed account(s) "
                                 "among %(n)d customer snapshots (at least %(min)d of each are needed).",
                                 pos=positives, n=len(data), min=MIN_POSITIVES)})
    snapshots = len(data)
    data, kept_share = _sample(data)
    numeric, categorical = feature_columns(data)
    numeric = [c for c in numeric if data[c].notna().any()]  # e.g. no contract plans at all
    y = data["label"].to_numpy()
    X = data[numeric + categorical]
    evaluation = cp.cross_validate(X, y, numeric, categorical)
    model = cp.fit(evaluation.chosen, X, y, numeric, categorical, odds_factor=kept_share)
    latest = db.session.execute(select(func.max(ChurnModelVersion.version))).scalar() or 0
    db.session.execute(update(ChurnModelVersion).values(active=False))
    version = ChurnModelVersion(
        version=latest + 1, algorithm=evaluation.chosen, roc_auc=evaluation.roc_auc, pr_auc=evaluation.pr_auc,
        metrics=json.dumps({"candidates": evaluation.scores, "folds": evaluation.folds,
                            "numeric": numeric, "categorical": categorical,
                            "horizon_months": HORIZON_MONTHS, "snapshots": SNAPSHOTS,
                            "customer_snapshots": snapshots, "non_churners_kept": kept_share}),
        samples=len(data), positives=positives, artifact=model.dumps(), active=True, trained_at=now,
        trained_by=trained_by or actor.username,
    )
    db.session.add(version)
    db.session.flush()
    audit.record(actor, "churn.train", "churn_model_version", version.id,
                 {"version": version.version, "algorithm": version.algorithm,
                  "roc_auc": round(evaluation.roc_auc, 4), "samples": len(data), "positives": positives})
    db.session.commit()
    return version


def active_version() -> ChurnModelVersion | None:
    return db.session.execute(
        select(ChurnModelVersion).where(ChurnModelVersion.active.is_(True))
        .order_by(ChurnModelVersion.version.desc()).limit(1)
    ).scalar()


def versions(limit: int = 20) -> list[ChurnModelVersion]:
    return list(db.session.execute(
        select(ChurnModelVersion).order_by(ChurnModelVersion.version.desc()).limit(limit)
    ).scalars())


# ---- scoring ---------------------------------------------------------------------------------

def _business_date(now: dt.datetime) -> dt.date:
    from app.services.care import business_date

    return business_date(now)


def _reason_value(feature: str, value: Any) -> Any:
    if value is None or value != value:  # NaN
        return None
    if feature in ("data_trend", "voice_trend", "monthly_fee", "arrears_amount", "data_gb_avg",
                   "tenure_months"):
        return round(float(value), 3)
    if isinstance(value, str):
        return value
    return int(round(float(value)))


def score_all(now: dt.datetime | None = None, chunk: int = 20000) -> dict[str, Any]:
    """Score every open customer with the active model; replace all scores. {} counts if no model."""
    from app.services.churn_pipeline import FittedModel

    now = now or utcnow()
    version = active_version()
    if version is None:
        return {"scored": 0, "model": None}
    model = FittedModel.loads(version.artifact)
    today = _business_date(now)
    db.session.execute(delete(ChurnScore))
    ids = list(db.session.execute(select(Customer.id).where(Customer.status != "closed")
                                  .order_by(Customer.id)).scalars())
    scored = 0
    for i in range(0, len(ids), chunk):
        frame = features(today, customer_ids=ids[i:i + chunk])
        if frame.empty:
            continue
        for col in model.numeric:
            if col not in frame.columns:
                frame[col] = 0.0  # e.g. trained with tickets, tickets gone: neutral value
        for col in model.categorical:
            if col not in frame.columns:
                frame[col] = "none"
        probs = model.predict(frame)
        reasons = model.top_reasons(frame)
        rows = []
        for (cid, row), p, feats in zip(frame.iterrows(), probs, reasons, strict=True):
            rows.append({
                "customer_id": int(cid), "model_version_id": version.id, "score": round(float(p), 4),
                "reasons": json.dumps([{"feature": f, "value": _reason_value(f, row[f])} for f in feats],
                                      ensure_ascii=False),
                "scored_at": now,
            })
        db.session.execute(insert(ChurnScore), rows)
        scored += len(rows)
    metrics = json.loads(version.metrics or "{}")
    metrics.update({"high_risk_cutoff": _relative_cutoff(scored), "scored": scored, "scored_at": now.isoformat()})
    version.metrics = json.dumps(metrics)
    db.session.commit()
    return {"scored": scored, "model": version.version}


def train_and_score(now: dt.datetime | None = None, actor: Actor = SYSTEM,
                    trained_by: str | None = None) -> dict[str, Any]:
    version = train(now=now, actor=actor, trained_by=trained_by)
    result = score_all(now=now)
    return {"model": version.version, "algorithm": version.algorithm, "roc_auc": round(version.roc_auc or 0, 4),
            "scored": result["scored"]}


# ---- reading scores --------------------------------------------------------------------------

def reason_text(feature: str, value: Any) -> str:
    """One reason in plain words, in the current language."""
    from app.labels import PAYMENT_METHOD_CHOICES, PLAN_TYPE_CHOICES, label_of

    if feature == "contract":
        return str(NO_CONTRACT if value in (None, "none") else UNDER_CONTRACT)
    if feature == "payment_method":
        if value in (None, "none"):
            return str(NO_PAYMENTS)
        value = label_of(PAYMENT_METHOD_CHOICES, value)
    elif feature == "plan_type":
        value = label_of(PLAN_TYPE_CHOICES, value)
    elif feature in ("data_trend", "voice_trend") and value is not None:
        value = f"{float(value) * 100:+.0f}%"
    elif feature in ("monthly_fee", "arrears_amount") and value is not None:
        value = f"{float(value):.2f}"
    elif feature == "tenure_months" and value is not None:
        value = f"{float(value):.0f}"
    template = REASON_TEXT.get(feature)
    if template is None:
        return feature
    return str(template) % {"value": value if value is not None else "—"}


def reasons_of(score: ChurnScore) -> list[str]:
    """A stored score's reasons in plain words, in the current language."""
    try:
        items = json.loads(score.reasons or "[]")
    except ValueError:
        return []
    return [reason_text(i["feature"], i.get("value")) for i in items]


@dataclass(frozen=True)
class CustomerRisk:
    score: float
    reasons: list[str]
    reason_codes: list[str]
    scored_at: dt.datetime
    model_version: int | None
    high: bool


def for_customer(customer_id: int) -> CustomerRisk | None:
    row = db.session.execute(
        select(ChurnScore, ChurnModelVersion.version)
        .outerjoin(ChurnModelVersion, ChurnModelVersion.id == ChurnScore.model_version_id)
        .where(ChurnScore.customer_id == customer_id)
    ).first()
    if row is None:
        return None
    score, version = row
    items = json.loads(score.reasons or "[]")
    return CustomerRisk(score=score.score, reasons=[reason_text(i["feature"], i.get("value")) for i in items],
                        reason_codes=[i["feature"] for i in items], scored_at=score.scored_at,
                        model_version=version, high=score.score >= high_risk_threshold())


def high_risk_condition(threshold: float | None = None) -> Any:
    """SQL condition on `Customer`: high churn risk and a high-value segment. Care rules can use it."""
    t = high_risk_threshold() if threshold is None else threshold
    return and_(
        Customer.segment.in_(high_value_segments()),
        Customer.status != "closed",
        Customer.id.in_(select(ChurnScore.customer_id).where(ChurnScore.score >= t)),
    )


def high_risk_high_value(actor: Actor, threshold: float | None = None, limit: int = 100,
                         offset: int = 0) -> tuple[int, list[tuple[Customer, ChurnScore]]]:
    """The "high risk, high value" list the caller may see (row rules apply), riskiest first."""
    from app.security.access import scope_customers

    t = high_risk_threshold() if threshold is None else threshold
    stmt = (
        select(Customer, ChurnScore).join(ChurnScore, ChurnScore.customer_id == Customer.id)
        .where(ChurnScore.score >= t, Customer.segment.in_(high_value_segments()), Customer.status != "closed")
    )
    stmt = scope_customers(stmt, actor)
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar() or 0
    rows = db.session.execute(
        stmt.order_by(ChurnScore.score.desc(), Customer.id).limit(limit).offset(offset)
    ).all()
    return int(total), [(c, s) for c, s in rows]


def risk_distribution(actor: Actor | None = None) -> list[tuple[str, int]]:
    """Counts of scored customers per risk band (for dashboards)."""
    bands = ((0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01))
    stmt = select(ChurnScore.score).join(Customer, Customer.id == ChurnScore.customer_id)
    if actor is not None:
        from app.security.access import scope_customers

        stmt = scope_customers(stmt, actor)
    sub = stmt.subquery()
    out = []
    for lo, hi in bands:
        n = db.session.execute(select(func.count()).select_from(sub).where(sub.c.score >= lo, sub.c.score < hi)
                               ).scalar() or 0
        out.append((f"{lo:.1f}–{min(hi, 1.0):.1f}", int(n)))
    return out
