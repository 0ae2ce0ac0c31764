"""Service statistics equal direct SQL counts on hand-made data (local-time period bounds included)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.department import Department
from app.services import service_stats as stats
from app.services import sla, surveys, tickets
from tests.conftest import actor_for
from tests.factories import make_customer, make_plan
from tests.service_sla.conftest import new_ticket

START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 9)  # local days (Asia/Shanghai, UTC+8)
UTC_START, UTC_END = dt.datetime(2026, 2, 28, 16), dt.datetime(2026, 3, 9, 16)
MIN = dt.timedelta(minutes=1)
COMPLAINT = {"resolution": "Refunded.", "complaint_process": "Checked the bill.", "complaint_result": "Refund."}


@pytest.fixture
def data(ctx):  # noqa: ANN201
    clerk, manager = actor_for("clerk1"), actor_for("manager")
    agent1, agent2 = actor_for("agent1"), actor_for("agent2")
    plan_a, plan_b = make_plan(manager, name="畅享A"), make_plan(manager, name="畅享B")
    people = [make_customer(clerk, city="北京"), make_customer(clerk, city="北京"), make_customer(clerk, city="北京"),
              make_customer(clerk, city="上海"), make_customer(clerk, city="上海")]
    for c, plan in zip(people, (plan_a, plan_a, None, plan_b, plan_b), strict=True):
        c.plan_id = plan.id if plan else None
    db.session.commit()
    c1, c2, c3, c4, c5 = (c.id for c in people)

    t1 = new_ticket(at=dt.datetime(2026, 3, 2, 1), customer_id=c1, ticket_type="complaint")
    tickets.take(t1.id, agent1, at=dt.datetime(2026, 3, 2, 1, 1))
    tickets.resolve(t1.id, COMPLAINT, agent1, at=dt.datetime(2026, 3, 2, 3))

    t2 = new_ticket(at=dt.datetime(2026, 3, 3, 2), customer_id=c2, ticket_type="complaint", channel="email")
    tickets.take(t2.id, agent1, at=dt.datetime(2026, 3, 3, 2, 5))
    technical = db.session.execute(select(Department.id).where(Department.code == "technical")).scalar()
    tickets.transfer(t2.id, technical, "Line test needed; customer already gave the address.", agent1,
                     at=dt.datetime(2026, 3, 3, 2, 30))
    tickets.take(t2.id, agent2, at=dt.datetime(2026, 3, 3, 3))
    tickets.resolve(t2.id, COMPLAINT, agent2, at=dt.datetime(2026, 3, 3, 7))

    t3 = new_ticket(at=dt.datetime(2026, 3, 5, 3), customer_id=c4, ticket_type="fault")
    t4 = new_ticket(at=dt.datetime(2026, 3, 5, 4), customer_id=c5, ticket_type="consultation", channel="web")
    tickets.take(t4.id, agent1, at=dt.datetime(2026, 3, 5, 4, 2))
    tickets.resolve(t4.id, {"resolution": "Explained the plan."}, agent1, at=dt.datetime(2026, 3, 5, 4, 12))
    new_ticket(at=dt.datetime(2026, 2, 20, 5), customer_id=c3, ticket_type="complaint")  # before the period
    # 2026-03-09 16:30 UTC is 2026-03-10 00:30 in Shanghai: after the period.
    new_ticket(at=dt.datetime(2026, 3, 9, 16, 30), customer_id=c1, ticket_type="complaint")
    sla.check(dt.datetime(2026, 3, 8))  # t3 (never answered) breaches

    for ticket_id, score, day in ((t1.id, 5, 4), (t2.id, 2, 6), (t4.id, 4, 6)):
        token = surveys.issue("ticket", ticket_id, None, now=dt.datetime(2026, 3, day)).token
        db.session.commit()
        surveys.answer(token, score, "", now=dt.datetime(2026, 3, day, 2))
    return {"t3": t3.id}


def sql(query: str, **params: object) -> list:
    return db.session.execute(text(query), {"s": UTC_START, "e": UTC_END, **params}).all()


def test_period_is_local_days(ctx):
    p = stats.period("2026-03-01", "2026-03-09")
    assert (p.utc_start, p.utc_end, p.grain) == (UTC_START, UTC_END, "day")


def test_volume_matches_sql(data):
    p = stats.period(START, END)
    for by, col in (("channel", "channel"), ("type", "ticket_type")):
        got: dict[str, int] = {}
        for _bucket, key, n in stats.volume(p, by):
            got[key] = got.get(key, 0) + n
        expected = dict(sql(f"SELECT {col}, COUNT(*) FROM ticket WHERE created_at >= :s AND created_at < :e "  # noqa: S608 - fixed names
                            f"GROUP BY {col}"))
        assert got == expected
    assert sum(got.values()) == 4
    # Buckets are local days: the 2026-03-05 03:00 and 04:00 UTC tickets fall on the 5th.
    assert ("2026-03-05", "fault", 1) in stats.volume(p, "type")


def test_complaint_rate_matches_sql(data):
    p = stats.period(START, END)
    by_city = {name: (n, total, rate) for name, n, total, rate in stats.complaint_rate(p, "city")}
    rows = sql("SELECT c.city, COUNT(t.id) FROM ticket t JOIN customer c ON c.id = t.customer_id "
               "WHERE t.ticket_type = 'complaint' AND t.created_at >= :s AND t.created_at < :e GROUP BY c.city")
    customers = dict(sql("SELECT city, COUNT(*) FROM customer GROUP BY city"))
    assert {city: (n, customers[city], round(1000 * n / customers[city], 2)) for city, n in rows} == by_city
    assert by_city["北京"] == (2, 3, 666.67)
    by_plan = {name: (n, total) for name, n, total, _rate in stats.complaint_rate(p, "plan")}
    assert by_plan == {"畅享A": (2, 2)}


def test_handling_time_matches_sql(data):
    p = stats.period(START, END)
    rows = sql("SELECT ticket_type, created_at, resolved_at FROM ticket "
               "WHERE resolved_at >= :s AND resolved_at < :e")
    hours = sorted(((_dt(r) - _dt(c)).total_seconds() / 3600) for _t, c, r in rows)
    p90 = hours[math.ceil(0.9 * len(hours)) - 1]
    overall = next(r for r in stats.handling_time(p) if r[0] == "*")
    assert overall == ("*", 3, round(sum(hours) / 3, 2), round(p90, 2))
    assert ("complaint", 2, 3.5, 5.0) in stats.handling_time(p)  # 2 h and 5 h


def test_first_contact_transfers_breaches_and_csat_match_sql(data):
    p = stats.period(START, END)
    (resolved, first), = sql("SELECT COUNT(*), SUM(CASE WHEN transfer_count = 0 AND reopen_count = 0 THEN 1 "
                             "ELSE 0 END) FROM ticket WHERE resolved_at >= :s AND resolved_at < :e")
    assert stats.first_contact(p)[0] == ("*", resolved, first, round(100 * first / resolved, 1))
    assert (resolved, first) == (3, 2)

    (moved,), = sql("SELECT COUNT(*) FROM ticket_transfer WHERE at >= :s AND at < :e")
    assert sum(n for _a, _b, n in stats.transfers(p)) == moved == 1
    assert stats.transferred_share(p) == (4, 1)

    (n, breached), = sql("SELECT COUNT(*), SUM(CASE WHEN s.response_breached_at IS NOT NULL OR "
                         "s.resolve_breached_at IS NOT NULL THEN 1 ELSE 0 END) FROM ticket t "
                         "JOIN ticket_sla s ON s.ticket_id = t.id WHERE t.created_at >= :s AND t.created_at < :e")
    assert stats.sla_breaches(p)[0] == ("*", n, breached, round(100 * breached / n, 1))
    assert (n, breached) == (4, 1)

    (answers, avg), = sql("SELECT COUNT(*), AVG(score) FROM survey WHERE answered_at >= :s AND answered_at < :e")
    trend = stats.csat(p)
    assert sum(r[1] for r in trend) == answers == 3
    assert round(sum(r[1] * r[2] for r in trend) / answers, 2) == round(float(avg), 2)
    assert [r[0] for r in trend] == ["2026-03-04", "2026-03-06"]
    assert trend[1][3] == 50.0  # scores 2 and 4: one of two is 4 or 5


def _dt(value: object) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def test_page_and_audited_exports_for_managers_only(data, as_user):
    client = as_user("manager")
    page = client.get("/service-stats/?start=2026-03-01&end=2026-03-09")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for key in ("volume_channel", "complaints_city", "handling_time", "sla_breaches", "csat"):
        assert f'id="crm-chart-{key}"' in html
    assert '<div class="crm-kpi-value" id="crm-kpi-tickets">4</div>' in html

    csv = client.get("/service-stats/export/volume_type?format=csv&start=2026-03-01&end=2026-03-09")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    body = csv.get_data(as_text=True)
    assert body.count("\n") == 1 + len(stats.volume(stats.period(START, END), "type"))
    xlsx = client.get("/service-stats/export/csat?format=xlsx&start=2026-03-01&end=2026-03-09")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    logged = db.session.execute(select(AuditLog.entity_id).where(
        AuditLog.action == "export", AuditLog.entity == "service_stats")).scalars().all()
    assert sorted(logged) == ["csat", "volume_type"]

    assert client.get("/service-stats/export/csat?format=pdf").status_code == 400
    assert client.get("/service-stats/export/nope?format=csv").status_code == 404
    bad = client.get("/service-stats/?start=2026-13-01")
    assert bad.status_code == 200  # shown with a message, default period

    agent = as_user("agent1")
    assert agent.get("/service-stats/").status_code in (302, 403)
    assert agent.get("/service-stats/export/csat?format=csv").status_code in (302, 403)
