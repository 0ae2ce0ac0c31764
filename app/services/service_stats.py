"""Service statistics (issue 4, point 9): every figure is one set-based query (SQLite and PostgreSQL).

A period is a range of local days (`CRM_TIMEZONE`), turned into UTC bounds once; timestamps in
the database are naive UTC. Buckets (day, or month for periods over 62 days) are local dates,
computed in SQL by shifting the UTC timestamp by the zone's offset.

Definitions (also shown on the page):
- volume: tickets created in the period, by channel or type, per bucket;
- complaint rate: complaints created in the period per 1,000 current customers of each plan / city
  (the customer's plan and city as recorded now);
- handling time: created → resolved, hours, for tickets resolved in the period; p90 is the
  nearest-rank 90th percentile;
- first-contact resolution: tickets resolved in the period never transferred and never reopened;
- transfers: cross-department transfers made in the period, by route;
- SLA breach rate: tickets created in the period whose response or resolution target was breached;
- CSAT: surveys answered in the period; CSAT % is the share of scores 4 and 5.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Integer, and_, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models.customer import Customer
from app.models.department import Department
from app.models.plan import Plan
from app.models.service_summary import TicketCsatDaily, TicketDaily
from app.models.sla import TicketSla
from app.models.survey import Survey
from app.models.ticket import Ticket, TicketTransfer
from app.services import audit, service_summary
from app.services.actor import Actor
from app.services.errors import Invalid
from app.services.validation import FieldError, check_date
from app.timefmt import local_zone

MAX_DAYS = 3 * 366
DAY_GRAIN_MAX_DAYS = 62


@dataclass(frozen=True)
class Period:
    start: dt.date  # local, inclusive
    end: dt.date  # local, inclusive
    utc_start: dt.datetime
    utc_end: dt.datetime  # exclusive
    offset_minutes: int  # local - UTC

    @property
    def grain(self) -> str:
        return "day" if (self.end - self.start).days < DAY_GRAIN_MAX_DAYS else "month"

    def as_args(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def _to_utc(day: dt.date) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(0), tzinfo=local_zone())
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def period(start: Any = None, end: Any = None, today: dt.date | None = None) -> Period:
    """The period asked for (default: the last 30 days up to today); Invalid names the bad field."""
    today = today or dt.datetime.now(local_zone()).date()
    errors: dict[str, str] = {}
    values: dict[str, dt.date | None] = {}
    for name, raw in (("start", start), ("end", end)):
        try:
            values[name] = check_date(raw)
        except FieldError as exc:
            errors[name] = str(exc)
    if errors:
        raise Invalid(errors)
    last = values["end"] or today
    first = values["start"] or last - dt.timedelta(days=29)
    if first > last:
        raise Invalid({"start": _("The start date must not be after the end date.")})
    if (last - first).days > MAX_DAYS:
        raise Invalid({"start": _("The period may be at most three years.")})
    utc_start, utc_end = _to_utc(first), _to_utc(last + dt.timedelta(days=1))
    offset = int(local_zone().utcoffset(dt.datetime.combine(first, dt.time(12))).total_seconds() // 60)
    return Period(first, last, utc_start, utc_end, offset)


# --- dialect helpers ---------------------------------------------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _bucket(col: Any, p: Period, grain: str | None = None) -> Any:
    """The local day ('YYYY-MM-DD') or month ('YYYY-MM') of a naive-UTC timestamp column."""
    grain = grain or p.grain
    if _dialect() == "postgresql":
        local = col + dt.timedelta(minutes=p.offset_minutes)
        return func.to_char(local, "YYYY-MM-DD" if grain == "day" else "YYYY-MM")
    local = func.datetime(col, f"{p.offset_minutes:+d} minutes")
    return func.strftime("%Y-%m-%d" if grain == "day" else "%Y-%m", local)


def _label(day: Any, grain: str) -> str:
    """The bucket label of a summary day (a date; SQLite may hand back its ISO text)."""
    text = day.isoformat() if isinstance(day, dt.date) else str(day)
    return text[:10] if grain == "day" else text[:7]


def _seconds(later: Any, earlier: Any) -> Any:
    if _dialect() == "postgresql":  # date_part is float8; EXTRACT is numeric, a third slower to sort and average
        return func.date_part("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def buckets(p: Period) -> list[str]:
    """Every bucket label of the period, in order (charts show empty days too)."""
    out: list[str] = []
    day = p.start
    while day <= p.end:
        label = day.isoformat() if p.grain == "day" else day.strftime("%Y-%m")
        if not out or out[-1] != label:
            out.append(label)
        day += dt.timedelta(days=1)
    return out


def _in(col: Any, p: Period) -> Any:
    return and_(col >= p.utc_start, col < p.utc_end)


# --- figures ------------------------------------------------------------------------------------
# Each figure is one grouped query; figures sharing rows share the query (`Figures` computes the
# page's set once). Customer counts (the complaint-rate denominators) scan the whole customer
# table, so they are cached for CRM_STATS_CACHE_SECONDS (default 300; "current customers").
#
# Volume and CSAT read closed days from the daily summary (`service_summary`) and the other days
# of the period (today, or days the summary does not hold yet) live; the sum is the live count.
# The other figures change after their day (reopen, late transfer or breach, the customer's
# current plan) or need every value (p90), so they are always live, on indexed ranges.

Grid = list[tuple[str, str, str, int]]  # (bucket, channel, type, tickets created)
_BASE_CACHE: dict[tuple[str, str], tuple[float, dict[str, int]]] = {}


def _split(p: Period) -> tuple[tuple[dt.date, dt.date] | None, list[Period]]:
    """The days of `p` the summary holds, and the live rest as up to two sub-periods."""
    held = service_summary.covered(p.start, p.end, p.offset_minutes)
    if held is None:
        return None, [p]
    ranges = [(p.start, held[0] - dt.timedelta(days=1)), (held[1] + dt.timedelta(days=1), p.end)]
    live = [Period(a, b, _to_utc(a), _to_utc(b + dt.timedelta(days=1)), p.offset_minutes)
            for a, b in ranges if a <= b]
    return held, live


def ticket_grid(p: Period) -> Grid:
    """Tickets created in the period by bucket, channel and type."""
    held, live = _split(p)
    totals: dict[tuple[str, str, str], int] = {}
    if held is not None:
        rows = db.session.execute(
            select(TicketDaily.day, TicketDaily.channel, TicketDaily.ticket_type, TicketDaily.tickets)
            .where(TicketDaily.day.between(*held))).all()
        for day, channel, ticket_type, n in rows:
            key = (_label(day, p.grain), channel, ticket_type)
            totals[key] = totals.get(key, 0) + int(n)
    for sub in live:
        bucket = _bucket(Ticket.created_at, sub, p.grain).label("bucket")
        rows = db.session.execute(
            select(bucket, Ticket.channel, Ticket.ticket_type, func.count(Ticket.id))
            .where(_in(Ticket.created_at, sub)).group_by(bucket, Ticket.channel, Ticket.ticket_type)).all()
        for b, channel, ticket_type, n in rows:
            totals[(b, channel, ticket_type)] = totals.get((b, channel, ticket_type), 0) + int(n)
    return [(b, c, t, n) for (b, c, t), n in sorted(totals.items())]


def volume(p: Period, by: str, grid: Grid | None = None) -> list[tuple[str, str, int]]:
    """(bucket, channel or type, tickets created) for the period."""
    totals: dict[tuple[str, str], int] = {}
    for b, channel, ticket_type, n in grid if grid is not None else ticket_grid(p):
        key = (b, channel if by == "channel" else ticket_type)
        totals[key] = totals.get(key, 0) + n
    return [(b, k, n) for (b, k), n in sorted(totals.items())]


def transferred_share(p: Period, grid: Grid | None = None) -> tuple[int, int]:
    """(tickets created in the period, of which transferred at least once)."""
    rows = grid if grid is not None else ticket_grid(p)
    # A literal 0, not a bound parameter: PostgreSQL must see the partial index's own predicate.
    moved = db.session.execute(
        select(func.count()).where(_in(Ticket.created_at, p), Ticket.transfer_count > literal_column("0"))
    ).scalar()
    return sum(r[3] for r in rows), int(moved or 0)


def _customer_base(by: str) -> dict[str, int]:
    label = func.coalesce(Plan.name, literal("—")) if by == "plan" else func.coalesce(Customer.city, literal("—"))
    stmt = select(label, func.count(Customer.id)).select_from(Customer)
    if by == "plan":
        stmt = stmt.outerjoin(Plan, Plan.id == Customer.plan_id)
    ttl = float(current_app.config.get("CRM_STATS_CACHE_SECONDS", 300))
    key = (str(db.engine.url), by)
    hit = _BASE_CACHE.get(key)
    if ttl > 0 and hit is not None and time.monotonic() - hit[0] < ttl:
        return hit[1]
    base = {name: int(n) for name, n in db.session.execute(stmt.group_by(label)).all()}
    _BASE_CACHE[key] = (time.monotonic(), base)
    return base


Complaints = list[tuple[str, str, int]]  # (plan name, city, complaints created in the period)


def complaints(p: Period) -> Complaints:
    """Complaints created in the period by the customer's current plan and city: one pass serves both
    complaint-rate figures (each complaint costs a customer look-up, the dearest part of the page)."""
    plan = func.coalesce(Plan.name, literal("—"))
    city = func.coalesce(Customer.city, literal("—"))
    rows = db.session.execute(
        select(plan, city, func.count()).select_from(Ticket)
        .join(Customer, Customer.id == Ticket.customer_id).outerjoin(Plan, Plan.id == Customer.plan_id)
        # A literal, not a bound parameter: PostgreSQL must see the partial index's own predicate.
        .where(Ticket.ticket_type == literal_column("'complaint'"), _in(Ticket.created_at, p))
        .group_by(plan, city)).all()
    return [(a, b, int(n)) for a, b, n in rows]


def complaint_rate(p: Period, by: str, rows: Complaints | None = None) -> list[tuple[str, int, int, float]]:
    """(plan name or city, complaints, customers, complaints per 1,000 customers), highest rate first."""
    counted: dict[str, int] = {}
    for plan, city, n in rows if rows is not None else complaints(p):
        key = plan if by == "plan" else city
        counted[key] = counted.get(key, 0) + n
    base = _customer_base(by)
    out = []
    for name, n in counted.items():
        total = base.get(name, 0)
        out.append((name, n, total, round(1000.0 * n / total, 2) if total else 0.0))
    out.sort(key=lambda r: (-r[3], r[0]))
    return out


Resolved = list[tuple[str, int, float, float, int]]  # (type or "*", resolved, avg s, p90 s, first contact)


def resolved_stats(p: Period) -> Resolved:
    """Tickets resolved in the period, overall ("*") and per type: count, average and p90 seconds from
    creation to resolution, and how many were resolved at first contact (never transferred or reopened)."""
    secs = _seconds(Ticket.resolved_at, Ticket.created_at)
    first = func.sum(case((and_(Ticket.transfer_count == 0, Ticket.reopen_count == 0), 1), else_=0))
    where = and_(Ticket.resolved_at.is_not(None), _in(Ticket.resolved_at, p))
    if _dialect() == "postgresql":  # one pass: ROLLUP gives the overall row, percentile_disc the nearest rank
        rows = db.session.execute(
            select(Ticket.ticket_type, func.count(), func.avg(secs),
                   func.percentile_disc(0.9).within_group(secs), first)
            .where(where).group_by(func.rollup(Ticket.ticket_type))
        ).all()
        out = [(k or "*", int(n), float(a), float(q), int(f or 0)) for k, n, a, q, f in rows if n]
        return sorted(out, key=lambda r: (r[0] != "*", r[0]))
    out = []
    for key in (literal("*"), Ticket.ticket_type):
        ranked = select(
            key.label("k"), secs.label("s"), case((and_(Ticket.transfer_count == 0, Ticket.reopen_count == 0), 1),
                                                  else_=0).label("f"),
            func.row_number().over(partition_by=key, order_by=secs).label("rn"),
            func.count().over(partition_by=key).label("n"),
        ).where(where).subquery()
        rows = db.session.execute(
            select(ranked.c.k, func.count(), func.avg(ranked.c.s),
                   func.min(case((ranked.c.rn * 10 >= ranked.c.n * 9, ranked.c.s))), func.sum(ranked.c.f))
            .group_by(ranked.c.k).order_by(ranked.c.k)
        ).all()
        out += [(k, int(n), float(a), float(q), int(f or 0)) for k, n, a, q, f in rows]
    return out


def handling_time(p: Period, resolved: Resolved | None = None) -> list[tuple[str, int, float, float]]:
    """(ticket type or '*' for all, tickets resolved, average hours, p90 hours)."""
    rows = resolved if resolved is not None else resolved_stats(p)
    return [(k, n, round(a / 3600, 2), round(q / 3600, 2)) for k, n, a, q, _f in rows]


def first_contact(p: Period, resolved: Resolved | None = None) -> list[tuple[str, int, int, float]]:
    """(ticket type or '*', resolved in the period, resolved at first contact, rate %)."""
    rows = resolved if resolved is not None else resolved_stats(p)
    return [(k, n, f, round(100.0 * f / n, 1) if n else 0.0) for k, n, _a, _q, f in rows]


def transfers(p: Period) -> list[tuple[str, str, int]]:
    """(from department, to department, transfers made in the period), most frequent first."""
    src, dst = aliased(Department), aliased(Department)
    rows = db.session.execute(
        select(src.name, dst.name, func.count(TicketTransfer.id))
        .join(src, src.id == TicketTransfer.from_department_id)
        .join(dst, dst.id == TicketTransfer.to_department_id)
        .where(_in(TicketTransfer.at, p)).group_by(src.name, dst.name)
        .order_by(func.count(TicketTransfer.id).desc(), src.name, dst.name)
    ).all()
    return [(a, b, int(n)) for a, b, n in rows]


def sla_breaches(p: Period) -> list[tuple[str, int, int, float]]:
    """(ticket type or '*', tickets created in the period with an SLA, breached, breach rate %).

    Reads `ticket_sla` alone (its clock starts when the ticket is created, and it carries the type)."""
    breached = func.sum(case((or_(TicketSla.response_breached_at.is_not(None), TicketSla.resolve_breaches > 0),
                              1), else_=0))
    rows = db.session.execute(
        select(TicketSla.ticket_type, func.count(), breached)  # count(*): answered from the index alone
        .where(_in(TicketSla.started_at, p)).group_by(TicketSla.ticket_type)
    ).all()
    per_type = sorted((k, int(n), int(b or 0)) for k, n, b in rows)
    if not per_type:
        return []
    n_all, b_all = sum(r[1] for r in per_type), sum(r[2] for r in per_type)
    return [(k, n, b, round(100.0 * b / n, 1) if n else 0.0) for k, n, b in [("*", n_all, b_all), *per_type]]


def csat(p: Period) -> list[tuple[str, int, float, float]]:
    """(bucket, answered surveys, average score, CSAT % = share of 4s and 5s) for ticket surveys."""
    held, live = _split(p)
    sums: dict[str, list[int]] = {}  # bucket -> [answers, score sum, happy]

    def add(bucket: str, n: Any, total: Any, happy: Any) -> None:
        acc = sums.setdefault(bucket, [0, 0, 0])
        acc[0], acc[1], acc[2] = acc[0] + int(n), acc[1] + int(total or 0), acc[2] + int(happy or 0)

    if held is not None:
        for day, n, total, happy in db.session.execute(
                select(TicketCsatDaily.day, TicketCsatDaily.answers, TicketCsatDaily.score_sum, TicketCsatDaily.happy)
                .where(TicketCsatDaily.day.between(*held))).all():
            add(_label(day, p.grain), n, total, happy)
    for sub in live:
        bucket = _bucket(Survey.answered_at, sub, p.grain).label("bucket")
        happy = func.sum(case((Survey.score >= 4, 1), else_=0)).cast(Integer)
        for b, n, total, h in db.session.execute(
                select(bucket, func.count(Survey.id), func.sum(Survey.score), happy)
                .where(Survey.subject_type == "ticket", Survey.answered_at.is_not(None), _in(Survey.answered_at, sub))
                .group_by(bucket)).all():
            add(b, n, total, h)
    return [(b, n, round(total / n, 2), round(100.0 * h / n, 1)) for b, (n, total, h) in sorted(sums.items()) if n]


def record_export(actor: Actor, chart: str, fmt: str, rows: int, p: Period) -> None:
    """Audit one chart export (what, in which format, for which period); commits."""
    audit.record(actor, "export", "service_stats", chart, {"format": fmt, "rows": rows, **p.as_args()})
    db.session.commit()
