"""Sales dashboard figures (managers): funnel with conversion rates, won revenue by month,
per-salesperson revenue / deals / new customers, lost reasons, filtered by period (the operator's
calendar days) and optionally one salesperson.

Each is one grouped query over the daily summary `sales_daily` (a few rows per day and salesperson),
which `app.services.sales_summary` keeps exact in the same transaction as every change to an
opportunity or a lead; grouping the live tables took 350–470 ms at a million customers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models.sales_summary import NO_OWNER, SalesDaily
from app.models.user import CrmUser
from app.security.access import sees_all_sales
from app.services import sales_summary  # noqa: F401 - installs the summary's upkeep on the session
from app.services.actor import Actor
from app.services.errors import Forbidden, Invalid
from app.services.sales import STAGE_LABELS
from app.services.validation import FieldError, check_date, check_id

FUNNEL = ("potential", "intent", "negotiation", "won")
CHARTS = ("funnel", "revenue", "salespeople", "lost_reasons")


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    owner_id: int | None


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


def _days(metric: str, f: Filters, *cols: Any) -> Any:
    """A query over the daily summary: one metric, the period's business days, maybe one salesperson."""
    stmt = select(*cols).where(SalesDaily.metric == metric, SalesDaily.day >= f.start, SalesDaily.day <= f.end)
    if f.owner_id is not None:
        stmt = stmt.where(SalesDaily.owner_key == f.owner_id)
    return stmt


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _owner(key: int) -> int | None:
    return None if key == NO_OWNER else key


def funnel(f: Filters, actor: Actor) -> list[dict[str, Any]]:
    """Opportunities created in the period, by the furthest stages they reached, with step rates."""
    _check(actor)
    by_rank = dict(db.session.execute(_days("created", f, SalesDaily.reached_rank, func.sum(SalesDaily.n))
                                      .group_by(SalesDaily.reached_rank)).all())
    rows, prev = [], None
    for rank, stage in enumerate(FUNNEL):
        count = sum(int(n or 0) for r, n in by_rank.items() if r >= rank)  # reached this stage or a later one
        rate = None if prev is None else (round(100.0 * count / prev, 1) if prev else 0.0)
        rows.append({"stage": stage, "label": str(STAGE_LABELS[stage]), "count": count, "rate": rate})
        prev = count
    return rows


def _month(day: Any) -> Any:
    """'YYYY-MM' of a business day, in SQL (the summary's days are already the operator's)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(day, "YYYY-MM")
    return func.strftime("%Y-%m", day)


def revenue_by_month(f: Filters, actor: Actor) -> list[dict[str, Any]]:
    _check(actor)
    month = _month(SalesDaily.day).label("month")
    rows = db.session.execute(_days("won", f, month, func.sum(SalesDaily.n), func.sum(SalesDaily.revenue))
                              .group_by(month).having(func.sum(SalesDaily.n) > 0).order_by(month)).all()
    return [{"month": m, "deals": int(n), "revenue": _money(r)} for m, n, r in rows]


def by_salesperson(f: Filters, actor: Actor) -> list[dict[str, Any]]:
    _check(actor)
    deals = {_owner(o): (int(n), _money(r)) for o, n, r in db.session.execute(
        _days("won", f, SalesDaily.owner_key, func.sum(SalesDaily.n), func.sum(SalesDaily.revenue))
        .group_by(SalesDaily.owner_key).having(func.sum(SalesDaily.n) > 0)).all()}
    new_customers = {_owner(o): int(n) for o, n in db.session.execute(
        _days("new_customer", f, SalesDaily.owner_key, func.sum(SalesDaily.n))
        .group_by(SalesDaily.owner_key).having(func.sum(SalesDaily.n) > 0)).all()}
    ids = [i for i in set(deals) | set(new_customers) if i is not None]
    names = dict(db.session.execute(select(CrmUser.id, CrmUser.username).where(CrmUser.id.in_(ids))).all())
    rows = []
    for uid in set(deals) | set(new_customers):
        n, r = deals.get(uid, (0, Decimal("0.00")))
        rows.append({"owner_id": uid, "username": names.get(uid, _("Unassigned")), "revenue": r, "deals": n,
                     "new_customers": new_customers.get(uid, 0)})
    return sorted(rows, key=lambda x: (-x["revenue"], x["username"]))


def lost_reasons(f: Filters, actor: Actor, top: int = 10) -> list[dict[str, Any]]:
    _check(actor)
    count = func.sum(SalesDaily.n)
    rows = db.session.execute(_days("lost", f, SalesDaily.lost_reason, count).group_by(SalesDaily.lost_reason)
                              .having(count > 0).order_by(count.desc(), SalesDaily.lost_reason)).all()
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


