"""Service statistics read from the daily summary equal direct SQL (issue 4, points 9 and 12).

Closed days come from `ticket_daily` / `ticket_csat_daily`, today and days the summary does not hold
are counted live; whichever mix a period needs, the page shows the same figures as a direct count.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models.base import utcnow
from app.models.service_summary import ServiceSummaryState, TicketCsatDaily, TicketDaily
from app.services import jobs, service_summary, surveys, tickets
from app.services import service_stats as stats
from app.services.care import business_date
from app.timefmt import to_local
from tests.conftest import actor_for
from tests.service_sla.conftest import new_ticket

DAY = dt.timedelta(days=1)


def _local_midnight_utc(day: dt.date) -> dt.datetime:
    return service_summary.to_utc(day)


@pytest.fixture
def now() -> dt.datetime:
    return utcnow()


@pytest.fixture
def today(now: dt.datetime) -> dt.date:
    return business_date(now)


def _answer(ticket_id: int, score: int, at: dt.datetime) -> None:
    token = surveys.issue("ticket", ticket_id, None, now=at - dt.timedelta(hours=1)).token
    db.session.commit()
    surveys.answer(token, score, "", now=at)


@pytest.fixture
def history(ctx, today: dt.date) -> dict[str, object]:  # noqa: ARG001 - ctx: app context
    """Tickets over the last 30 days, two of them a minute either side of a local midnight."""
    agent1 = actor_for("agent1")
    made = []
    for back, (channel, ticket_type, score) in enumerate([
            ("phone", "fault", 5), ("email", "complaint", 2), ("web", "consultation", 4),
            ("phone", "complaint", 3), ("social", "fault", None), ("walk_in", "billing_dispute", 4)]):
        day = today - dt.timedelta(days=3 + 4 * back)
        at = _local_midnight_utc(day) + dt.timedelta(hours=10)
        t = new_ticket(at=at, channel=channel, ticket_type=ticket_type)
        tickets.take(t.id, agent1, at=at + dt.timedelta(minutes=5))
        tickets.resolve(t.id, {"resolution": "Done.", "complaint_process": "Checked.", "complaint_result": "Fixed."},
                        agent1, at=at + dt.timedelta(hours=1 + back))
        if score:
            _answer(t.id, score, at + dt.timedelta(hours=2 + back))
        made.append(t.id)
    boundary = today - dt.timedelta(days=10)
    midnight = _local_midnight_utc(boundary)  # 00:00 local = 16:00 UTC the day before
    new_ticket(at=midnight - dt.timedelta(minutes=1), channel="phone", ticket_type="fault")  # the 9th day back
    new_ticket(at=midnight + dt.timedelta(minutes=1), channel="phone", ticket_type="fault")  # the 10th
    new_ticket(at=_local_midnight_utc(today - dt.timedelta(days=40)), ticket_type="fault")  # before 30 days
    return {"boundary": boundary, "ids": made}


def _direct_volume(p: stats.Period) -> dict[tuple[str, str, str], int]:
    """Tickets created in the period, by local day (or month), channel and type, straight from SQL."""
    rows = db.session.execute(text("SELECT created_at, channel, ticket_type FROM ticket "
                                   "WHERE created_at >= :s AND created_at < :e"),
                              {"s": p.utc_start, "e": p.utc_end}).all()
    out: dict[tuple[str, str, str], int] = {}
    for created, channel, ticket_type in rows:
        day = to_local(_dt(created)).date()
        key = (day.isoformat() if p.grain == "day" else day.strftime("%Y-%m"), channel, ticket_type)
        out[key] = out.get(key, 0) + 1
    return out


def _direct_csat(p: stats.Period) -> list[tuple[str, int, float, float]]:
    rows = db.session.execute(text("SELECT answered_at, score FROM survey WHERE subject_type = 'ticket' "
                                   "AND answered_at >= :s AND answered_at < :e"),
                              {"s": p.utc_start, "e": p.utc_end}).all()
    by: dict[str, list[int]] = {}
    for answered, score in rows:
        day = to_local(_dt(answered)).date()
        by.setdefault(day.isoformat() if p.grain == "day" else day.strftime("%Y-%m"), []).append(score)
    return [(b, len(s), round(sum(s) / len(s), 2), round(100.0 * sum(1 for x in s if x >= 4) / len(s), 1))
            for b, s in sorted(by.items())]


def _dt(value: object) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _figures(p: stats.Period) -> dict[str, object]:
    grid = stats.ticket_grid(p)
    return {"grid": {(b, c, t): n for b, c, t, n in grid}, "share": stats.transferred_share(p, grid),
            "csat": stats.csat(p), "handling": stats.handling_time(p), "first": stats.first_contact(p),
            "breaches": stats.sla_breaches(p)}


def _summary_rows() -> list[tuple]:
    tickets_rows = db.session.execute(select(TicketDaily.day, TicketDaily.channel, TicketDaily.ticket_type,
                                             TicketDaily.tickets).order_by(TicketDaily.day, TicketDaily.channel,
                                                                           TicketDaily.ticket_type)).all()
    csat_rows = db.session.execute(select(TicketCsatDaily.day, TicketCsatDaily.answers, TicketCsatDaily.score_sum,
                                          TicketCsatDaily.happy).order_by(TicketCsatDaily.day)).all()
    return [tuple(r) for r in tickets_rows] + [tuple(r) for r in csat_rows]


def test_last_30_days_from_the_summary_equal_direct_sql(history, now, today):
    p = stats.period(today - dt.timedelta(days=29), today)
    live = _figures(p)
    done = service_summary.refresh(now)
    st = db.session.get(ServiceSummaryState, 1)
    assert (st.last_day, done["days"] > 30) == (today - DAY, True)
    assert db.session.execute(select(func.sum(TicketDaily.tickets))).scalar() == 9  # every ticket, 40 days back too
    assert done["ticket_rows"] == db.session.execute(select(func.count()).select_from(TicketDaily)).scalar()

    held = _figures(p)
    assert held == live
    assert held["grid"] == _direct_volume(p)
    assert sum(held["grid"].values()) == 8  # not the one 40 days back
    assert held["csat"] == _direct_csat(p) and sum(r[1] for r in held["csat"]) == 5
    # The two tickets a minute either side of local midnight fall on their own local days.
    boundary = history["boundary"]
    assert held["grid"][(boundary.isoformat(), "phone", "fault")] == 1
    assert held["grid"][((boundary - DAY).isoformat(), "phone", "fault")] == 1


def test_a_period_across_the_summary_edge_mixes_summary_and_live_days(history, now, today):
    boundary = history["boundary"]
    service_summary.rebuild(today - dt.timedelta(days=60), boundary - DAY, now=now)  # holds up to the 11th day back
    for first, last in ((boundary - dt.timedelta(days=3), boundary + dt.timedelta(days=3)),
                        (today - dt.timedelta(days=29), today),
                        (today - dt.timedelta(days=120), today)):  # month buckets
        p = stats.period(first, last)
        got = _figures(p)
        assert got["grid"] == _direct_volume(p), (first, last)
        assert got["csat"] == _direct_csat(p), (first, last)
    assert stats.period(today - dt.timedelta(days=120), today).grain == "month"


def test_tickets_created_and_resolved_today_count_at_once(history, now, today):
    service_summary.refresh(now)
    agent1 = actor_for("agent1")
    at = max(_local_midnight_utc(today) + dt.timedelta(minutes=5), now - dt.timedelta(minutes=30))
    t = new_ticket(at=at, channel="email", ticket_type="complaint")
    tickets.take(t.id, agent1, at=at + dt.timedelta(minutes=1))
    tickets.resolve(t.id, {"resolution": "Done.", "complaint_process": "Checked.", "complaint_result": "Fixed."},
                    agent1, at=at + dt.timedelta(minutes=2))
    _answer(t.id, 5, at + dt.timedelta(minutes=3))
    # An older ticket reopened today leaves its resolution day's figures: handling time stays live.
    tickets.reopen(history["ids"][0], "Still no signal.", agent1, at=at + dt.timedelta(minutes=4))

    p = stats.period(today - dt.timedelta(days=29), today)
    got = _figures(p)
    assert got["grid"] == _direct_volume(p)
    assert got["grid"][(today.isoformat(), "email", "complaint")] == 1
    assert got["csat"] == _direct_csat(p)
    (resolved,) = db.session.execute(text("SELECT COUNT(*) FROM ticket WHERE resolved_at >= :s AND resolved_at < :e"),
                                     {"s": p.utc_start, "e": p.utc_end}).one()
    assert got["handling"][0][:2] == ("*", resolved) == ("*", 6)  # 6 resolved earlier - 1 reopened + 1 today
    service_summary.refresh(now)  # today is never put in the summary: it is still changing
    assert db.session.get(ServiceSummaryState, 1).last_day == today - DAY
    assert _figures(p) == got


def test_rebuild_and_job_are_idempotent(history, now, today):
    first = jobs.execute("service_summary", trigger="manual")
    assert first.status == "success"
    rows = _summary_rows()
    assert rows
    assert jobs.execute("service_summary", trigger="manual").status == "success"
    assert _summary_rows() == rows
    assert jobs.execute("service_summary_full", trigger="manual").status == "success"
    assert _summary_rows() == rows
    p = stats.period(today - dt.timedelta(days=29), today)
    assert {(b, c, t): n for b, c, t, n in stats.ticket_grid(p)} == _direct_volume(p)


def test_closed_days_are_read_from_the_summary_unless_built_for_another_zone(history, now, today):
    service_summary.refresh(now)
    p = stats.period(today - dt.timedelta(days=29), today)
    held = db.session.execute(select(func.count()).select_from(TicketDaily).where(
        TicketDaily.day.between(p.start, p.end))).scalar()
    db.session.execute(TicketDaily.__table__.update().values(tickets=TicketDaily.tickets + 100))
    db.session.commit()
    assert sum(n for *_k, n in stats.ticket_grid(p)) == 8 + 100 * held  # the page reads the summary
    st = db.session.get(ServiceSummaryState, 1)
    st.offset_minutes += 60  # as if built before CRM_TIMEZONE changed: its days are other days
    db.session.commit()
    assert {(b, c, t): n for b, c, t, n in stats.ticket_grid(p)} == _direct_volume(p)
