"""Upkeep of the service statistics' daily summary (`app.models.service_summary`).

The summary holds closed local days only (up to yesterday, in the business time zone); the
statistics read those days from it and everything else live, so a figure is the same whether or
not the summary exists. Each rebuild is set-based: delete the days' rows, then one grouped
INSERT … SELECT per table, in one transaction with the coverage record, so a reader never sees a
half-built day. Rebuilding the same days twice gives the same rows (the job is idempotent).

Jobs: `service_summary` every night adds the days since the last run (normally just yesterday,
more after downtime); `service_summary_full` rebuilds everything weekly and is the command for a
full rebuild (`crm jobs run service_summary_full`), e.g. after tickets were loaded with past dates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, case, cast, delete, func, insert, select

from app.extensions import db
from app.models.base import utcnow
from app.models.service_summary import ServiceSummaryState, TicketCsatDaily, TicketDaily
from app.models.survey import Survey
from app.models.ticket import Ticket
from app.services.care import business_date
from app.timefmt import local_zone

STATE_ID = 1
DAY = dt.timedelta(days=1)
COUNTED = {"preserve_rowcount": True}  # SQLAlchemy keeps an INSERT's row count only when asked


def to_utc(day: dt.date) -> dt.datetime:
    """Midnight of the local `day`, as the naive UTC the database stores."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=local_zone())
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def offset_minutes(day: dt.date) -> int:
    """Local time minus UTC on `day`, in minutes (as `service_stats.Period` computes it)."""
    return int(local_zone().utcoffset(dt.datetime.combine(day, dt.time(12))).total_seconds() // 60)


def local_day(col: Any, offset: int) -> Any:
    """The local calendar day of a naive-UTC timestamp column, as a date."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(col + dt.timedelta(minutes=offset), Date)
    return func.date(col, f"{offset:+d} minutes")  # SQLite keeps dates as 'YYYY-MM-DD' text


def state() -> ServiceSummaryState | None:
    return db.session.get(ServiceSummaryState, STATE_ID)


def covered(first: dt.date, last: dt.date, offset: int) -> tuple[dt.date, dt.date] | None:
    """The days of [first, last] the summary holds, or None (then every day is counted live)."""
    st = state()
    if st is None or st.offset_minutes != offset:  # built for another time zone: days differ
        return None
    lo, hi = max(first, st.first_day), min(last, st.last_day)
    return (lo, hi) if lo <= hi else None


def _fill(first: dt.date, last: dt.date, offset: int) -> dict[str, int]:
    lo, hi = to_utc(first), to_utc(last + DAY)
    day = local_day(Ticket.created_at, offset).label("day")
    tickets = db.session.execute(
        insert(TicketDaily).from_select(
            ["day", "channel", "ticket_type", "tickets"],
            select(day, Ticket.channel, Ticket.ticket_type, func.count(Ticket.id))
            .where(Ticket.created_at >= lo, Ticket.created_at < hi)
            .group_by(day, Ticket.channel, Ticket.ticket_type)), execution_options=COUNTED
    ).rowcount
    answered = local_day(Survey.answered_at, offset).label("day")
    happy = func.sum(case((Survey.score >= 4, 1), else_=0))
    csat = db.session.execute(
        insert(TicketCsatDaily).from_select(
            ["day", "answers", "score_sum", "happy"],
            select(answered, func.count(Survey.id), func.coalesce(func.sum(Survey.score), 0), happy)
            .where(Survey.subject_type == "ticket", Survey.answered_at >= lo, Survey.answered_at < hi)
            .group_by(answered)), execution_options=COUNTED
    ).rowcount
    return {"ticket_rows": max(tickets, 0), "csat_rows": max(csat, 0)}


def rebuild(first: dt.date, last: dt.date, *, now: dt.datetime | None = None,
            replace: bool = False) -> dict[str, Any]:
    """Recompute the local days [first, last] (never today or later) and record them as covered;
    `replace` drops every other day first. Commits."""
    now = now or utcnow()
    last = min(last, business_date(now) - DAY)  # today is still changing: always live
    if first > last:
        return {"days": 0}
    offset = offset_minutes(first)
    st = state()
    # The coverage stays one unbroken range: a rebuild that does not touch it starts afresh.
    fresh = (replace or st is None or st.offset_minutes != offset
             or first > st.last_day + DAY or last < st.first_day - DAY)
    if fresh:
        db.session.execute(delete(TicketDaily))
        db.session.execute(delete(TicketCsatDaily))
    else:
        db.session.execute(delete(TicketDaily).where(TicketDaily.day.between(first, last)))
        db.session.execute(delete(TicketCsatDaily).where(TicketCsatDaily.day.between(first, last)))
    counts = _fill(first, last, offset)
    if st is None:
        st = ServiceSummaryState(id=STATE_ID)
        db.session.add(st)
    if fresh:
        st.first_day, st.last_day = first, last
    else:
        st.first_day, st.last_day = min(first, st.first_day), max(last, st.last_day)
    st.offset_minutes, st.rebuilt_at = offset, now
    db.session.commit()
    return {"days": (last - first).days + 1, "first": first.isoformat(), "last": last.isoformat(), **counts}


def _earliest(offset: int) -> dt.date | None:
    starts = [db.session.execute(select(func.min(Ticket.created_at))).scalar(),
              db.session.execute(select(func.min(Survey.answered_at))
                                 .where(Survey.subject_type == "ticket")).scalar()]
    starts = [s if isinstance(s, dt.datetime) else dt.datetime.fromisoformat(s) for s in starts if s is not None]
    if not starts:
        return None
    return (min(starts) + dt.timedelta(minutes=offset)).date()


def rebuild_all(now: dt.datetime | None = None) -> dict[str, Any]:
    """Rebuild every closed day from the first ticket (or answered survey) on. Commits."""
    now = now or utcnow()
    yesterday = business_date(now) - DAY
    first = _earliest(offset_minutes(yesterday)) or yesterday
    return rebuild(min(first, yesterday), yesterday, now=now, replace=True)


def refresh(now: dt.datetime | None = None) -> dict[str, Any]:
    """The nightly run: add the closed days since the summary's last day (all days if none yet)."""
    now = now or utcnow()
    yesterday = business_date(now) - DAY
    st = state()
    if st is None or st.offset_minutes != offset_minutes(yesterday):
        return rebuild_all(now)
    return rebuild(min(st.last_day + DAY, yesterday), yesterday, now=now)

