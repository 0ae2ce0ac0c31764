"""Sales dashboard figures (managers): funnel with conversion rates, won revenue by month,
per-salesperson revenue / deals / new customers, lost reasons. Each is one grouped SQL query over
indexed columns, filtered by period (the operator's calendar days) and optionally one salesperson."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from app.extensions import db
from app.models.lead import Lead
from app.models.opportunity import Opportunity
from app.models.user import CrmUser
from app.security.access import sees_all_sales
from app.services.actor import Actor
from app.services.care_kinds import local_day_start_utc
from app.services.errors import Forbidden, Invalid
from app.services.sales import STAGE_LABELS
from app.services.validation import FieldError, check_date, check_id
from app.timefmt import local_zone

FUNNEL = ("potential", "intent", "negotiation", "won")
CHARTS = ("funnel", "revenue", "salespeople", "lost_reasons")


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    owner_id: int | None

    @property
    def since(self) -> dt.datetime:
        return local_day_start_utc(self.start)

    @property
    def until(self) -> dt.datetime:
        return local_day_start_utc(self.end + dt.timedelta(days=1))


def parse_filters(args: dict[str, Any], today: dt.date) -> Filters:
    errors = {}
    try:
        start = check_date(args.get("start")) or (today.replace(day=1) - dt.timedelta(days=334)).replace(day=1)
    except FieldError as exc:
        errors["start"], start = str(exc), None
    try:
        end = check_date(args.get("end")) or today
    except FieldError as exc:
        errors["end"], end = str(exc), None
    owner = None
    if args.get("owner") not in (None, ""):
        owner = check_id(args.get("owner"))
        if owner is None:
            errors["owner"] = _("Not a valid choice: %(value)s.", value=args.get("owner"))
    if start and end and end < start:
        errors["end"] = _("The end date must not be before the start date.")
    if errors:
        raise Invalid(errors)
    return Filters(start, end, owner)


def _check(actor: Actor) -> None:
    if not sees_all_sales(actor):
        raise Forbidden()


def funnel(f: Filters, actor: Actor) -> list[dict[str, Any]]:
    """Opportunities created in the period, by the furthest stages they reached, with step rates."""
    _check(actor)
    # One scan of an index (created_at, owner_id, reached_rank): each move keeps `reached_rank`.
    stmt = select(*[func.count(case((Opportunity.reached_rank >= rank, 1))) for rank in range(len(FUNNEL))]).where(
        Opportunity.created_at >= f.since, Opportunity.created_at < f.until)
    if f.owner_id is not None:
        stmt = stmt.where(Opportunity.owner_id == f.owner_id)
    reached = [int(n or 0) for n in db.session.execute(stmt).one()]
    rows, prev = [], None
    for rank, stage in enumerate(FUNNEL):
        count = reached[rank]
        rate = None if prev is None else (round(100.0 * count / prev, 1) if prev else 0.0)
        rows.append({"stage": stage, "label": str(STAGE_LABELS[stage]), "count": count, "rate": rate})
        prev = count
    return rows


def _won(f: Filters) -> Any:
    stmt = select(Opportunity).where(Opportunity.stage == "won", Opportunity.closed_at >= f.since,
                                     Opportunity.closed_at < f.until)
    if f.owner_id is not None:
        stmt = stmt.where(Opportunity.owner_id == f.owner_id)
    return stmt


def _local_month(column: Any) -> Any:
    """'YYYY-MM' of a naive-UTC timestamp in the operator's time zone, in SQL."""
    offset = local_zone().utcoffset(dt.datetime(2026, 1, 1))
    hours = int(offset.total_seconds() // 3600) if offset else 0
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column + dt.timedelta(hours=hours), "YYYY-MM")
    return func.strftime("%Y-%m", column, f"{hours:+d} hours")


def revenue_by_month(f: Filters, actor: Actor) -> list[dict[str, Any]]:
    _check(actor)
    won = _won(f).subquery()
    month = _local_month(won.c.closed_at).label("month")
    rows = db.session.execute(select(month, func.count(), func.sum(won.c.expected_revenue))
                              .group_by(month).order_by(month)).all()
    return [{"month": m, "deals": int(n), "revenue": Decimal(r or 0).quantize(Decimal("0.01"))} for m, n, r in rows]


def by_salesperson(f: Filters, actor: Actor) -> list[dict[str, Any]]:
    _check(actor)
    won = _won(f).subquery()
    deals = {uid: (int(n), Decimal(r or 0).quantize(Decimal("0.01"))) for uid, n, r in db.session.execute(
        select(won.c.owner_id, func.count(), func.sum(won.c.expected_revenue)).group_by(won.c.owner_id)).all()}
    new_customers_q = select(Lead.owner_id, func.count()).where(
        Lead.created_customer.is_(True), Lead.converted_at >= f.since, Lead.converted_at < f.until)
    if f.owner_id is not None:
        new_customers_q = new_customers_q.where(Lead.owner_id == f.owner_id)
    new_customers = dict(db.session.execute(new_customers_q.group_by(Lead.owner_id)).all())
    ids = [i for i in set(deals) | set(new_customers) if i is not None]
    names = dict(db.session.execute(select(CrmUser.id, CrmUser.username).where(CrmUser.id.in_(ids))).all())
    rows = []
    for uid in set(deals) | set(new_customers):
        n, r = deals.get(uid, (0, Decimal("0.00")))
        rows.append({"owner_id": uid, "username": names.get(uid, _("Unassigned")), "revenue": r, "deals": n,
                     "new_customers": int(new_customers.get(uid, 0))})
    return sorted(rows, key=lambda x: (-x["revenue"], x["username"]))


def lost_reasons(f: Filters, actor: Actor, top: int = 10) -> list[dict[str, Any]]:
    _check(actor)
    stmt = select(Opportunity.lost_reason, func.count()).where(
        Opportunity.stage == "lost", Opportunity.closed_at >= f.since, Opportunity.closed_at < f.until)
    if f.owner_id is not None:
        stmt = stmt.where(Opportunity.owner_id == f.owner_id)
    rows = db.session.execute(stmt.group_by(Opportunity.lost_reason).order_by(func.count().desc(),
                                                                              Opportunity.lost_reason)).all()
    out = [{"reason": r or _("(none)"), "count": int(n)} for r, n in rows[:top]]
    if len(rows) > top:
        out.append({"reason": _("Other"), "count": sum(int(n) for _r, n in rows[top:])})
    return out


def table(chart: str, f: Filters, actor: Actor) -> tuple[list[str], list[list[Any]]]:
    """A chart's data as header + rows, for the CSV/XLSX export."""
    if chart == "funnel":
        return ([_("Stage"), _("Opportunities"), _("Conversion from previous stage (%)")],
                [[r["label"], r["count"], "" if r["rate"] is None else r["rate"]] for r in funnel(f, actor)])
    if chart == "revenue":
        return ([_("Month"), _("Deals won"), _("Won revenue")],
                [[r["month"], r["deals"], r["revenue"]] for r in revenue_by_month(f, actor)])
    if chart == "salespeople":
        return ([_("Salesperson"), _("Won revenue"), _("Deals won"), _("New customers")],
                [[r["username"], r["revenue"], r["deals"], r["new_customers"]] for r in by_salesperson(f, actor)])
    if chart == "lost_reasons":
        return ([_("Lost reason"), _("Opportunities")], [[r["reason"], r["count"]] for r in lost_reasons(f, actor)])
    raise Invalid({"chart": _("Not a valid choice: %(value)s.", value=chart)})


def salespeople() -> list[CrmUser]:
    """Active users with the Sales role (for the filter)."""
    from flask_appbuilder.security.sqla.models import Role

    return list(db.session.execute(select(CrmUser).join(CrmUser.roles).where(
        Role.name == "Sales", CrmUser.active.is_(True)).order_by(CrmUser.username)).scalars())


