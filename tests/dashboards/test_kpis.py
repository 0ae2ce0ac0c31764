"""Every dashboard figure equals a direct SQL count or sum on hand-made data; the refresh job stores them."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.kpi import KpiSnapshot
from app.services import dashboards, jobs, kpi_refresh
from tests.dashboards.conftest import NOW, TODAY

JULY, JUNE, MAY, APRIL, MARCH = (dt.date(2026, m, 1) for m in (7, 6, 5, 4, 3))


def sql(query: str, **params) -> float:  # noqa: ANN003
    return db.session.execute(text(query), params).scalar() or 0


@pytest.fixture
def data(company):  # noqa: ANN001, ANN201
    c = company
    c1 = c.customer("active", "mobile", "北京", "high_value", created=NOW - dt.timedelta(days=800))
    c2 = c.customer("active", "broadband", "上海", "potential", created=NOW - dt.timedelta(days=90))
    c3 = c.customer("suspended", "mobile", "上海", "ordinary", created=NOW - dt.timedelta(days=400))
    c4 = c.customer("closed", "mobile", "北京", "low_value", created=NOW - dt.timedelta(days=210))
    c5 = c.customer("active", None, "广州", "ordinary", created=NOW - dt.timedelta(days=2000))
    c.bill(c1, JULY, "100.00", due=dt.date(2026, 7, 28))
    c.bill(c1, JUNE, "80.00", paid="80.00", due=dt.date(2026, 7, 5))
    c.bill(c2, JULY, "50.00", due=dt.date(2026, 7, 28))
    c.bill(c2, JUNE, "60.00", paid="10.00", due=dt.date(2026, 7, 5))  # 10 days late: 0–30, ¥50
    c.bill(c3, MAY, "70.00", due=dt.date(2026, 5, 20))  # 56 days: 31–60
    c.bill(c3, APRIL, "90.00", due=dt.date(2026, 4, 10))  # 96 days: 91+
    c.bill(c4, MARCH, "30.00", due=dt.date(2026, 5, 1))  # 75 days: 61–90 (closed customer still owes)
    c.bill(c5, JUNE, "20.00", due=dt.date(2026, 7, 15))  # due today: not yet overdue
    t1 = c.ticket(c1, "new")
    t2 = c.ticket(c2, "resolved")
    t3 = c.ticket(c3, "in_progress", "complaint")
    c.ticket(c4, "closed", "complaint")
    c.ticket(c4, "closed", "complaint")
    c.ticket(c5, "reopened")
    c.sla(t1, breached=True)
    c.sla(t2, breached=True, stopped=True)
    c.sla(t3, breached=False)
    c.task(c1, "done", dt.date(2026, 7, 10), completed=NOW - dt.timedelta(days=1))
    c.task(c1, "done", dt.date(2026, 6, 10), completed=dt.datetime(2026, 6, 12, 3))
    c.task(c2, "open", dt.date(2026, 7, 10))
    c.task(c3, "open", dt.date(2026, 7, 20))
    c.task(c3, "cancelled", dt.date(2026, 7, 1))
    c.scores([(c1, 0.1, ["tenure_months", "arrears_amount"]), (c2, 0.45, ["arrears_amount"]),
              (c3, 0.85, ["plan_type", "arrears_amount"]), (c5, 0.39, []), (c4, 0.9, ["tenure_months"])])
    return c1, c2, c3, c4, c5


def test_manager_kpis_equal_direct_sql(data):  # noqa: ANN001
    d = kpi_refresh.manager_kpis(TODAY)
    active = sql("SELECT count(*) FROM customer WHERE status = 'active'")
    assert d["active_customers"] == active == 3
    july = sql("SELECT sum(total) FROM bill WHERE month = :m", m=JULY)
    june = sql("SELECT sum(total) FROM bill WHERE month = :m", m=JUNE)
    assert d["revenue_this_month"] == float(july) == 150.0
    assert d["revenue_last_month"] == float(june) == 160.0
    assert d["arpu"] == round(float(july) / active, 2) == 50.0
    assert d["revenue_change"] == pytest.approx((150 - 160) / 160, abs=1e-4)
    overdue = "FROM bill WHERE status != 'paid' AND due_date < :today"
    assert d["arrears_total"] == float(sql(f"SELECT sum(total - paid_amount) {overdue}", today=TODAY)) == 240.0
    assert d["arrears_bills"] == sql(f"SELECT count(*) {overdue}", today=TODAY) == 4
    assert d["arrears_customers"] == sql(f"SELECT count(DISTINCT customer_id) {overdue}", today=TODAY) == 3
    for bucket, (lo, hi) in zip(d["aging"], [(1, 30), (31, 60), (61, 90), (91, 100000)], strict=True):
        amount = sql(f"SELECT sum(total - paid_amount) {overdue} AND due_date >= :a AND due_date <= :b",
                     today=TODAY, a=TODAY - dt.timedelta(days=hi), b=TODAY - dt.timedelta(days=lo))
        assert bucket["amount"] == float(amount)
    assert [b["amount"] for b in d["aging"]] == [50.0, 70.0, 30.0, 90.0]
    scored = "FROM churn_score s JOIN customer c ON c.id = s.customer_id WHERE c.status != 'closed'"
    for band in d["risk"]:
        hi = band["to"] if band["to"] is not None else 9
        assert band["customers"] == sql(f"SELECT count(*) {scored} AND s.score >= :lo AND s.score < :hi",
                                        lo=band["from"], hi=hi)
    assert [b["customers"] for b in d["risk"]] == [1, 1, 1, 0, 1]
    assert d["open_tickets"] == sql(
        "SELECT count(*) FROM ticket WHERE status NOT IN ('resolved', 'closed')") == 3
    assert d["sla_breached"] == sql(
        "SELECT count(*) FROM ticket_sla WHERE stopped_at IS NULL AND "
        "(response_breached_at IS NOT NULL OR resolve_breached_at IS NOT NULL)") == 1
    # the month begins at local midnight of the 1st (Asia/Shanghai: 16:00 UTC the day before)
    assert d["care_done_month"] == sql("SELECT count(*) FROM care_task WHERE status = 'done' AND completed_at >= :m",
                                       m=dt.datetime(2026, 6, 30, 16)) == 1
    assert d["care_overdue"] == sql("SELECT count(*) FROM care_task WHERE status = 'open' AND due_date < :t",
                                    t=TODAY) == 1


def test_customer_analysis_equals_direct_sql(data):  # noqa: ANN001
    d = kpi_refresh.customer_analysis(TODAY)
    rows = db.session.execute(text(
        "SELECT segment, count(*) FROM customer WHERE status != 'closed' GROUP BY segment")).all()
    assert d["segments"] == {s: n for s, n in rows} == {"high_value": 1, "potential": 1, "ordinary": 2}
    cities = dict(db.session.execute(text(
        "SELECT city, count(*) FROM customer WHERE status != 'closed' GROUP BY city")).all())
    assert {c["city"]: c["customers"] for c in d["cities"]} == cities == {"北京": 1, "上海": 2, "广州": 1}
    assert d["cities"][0] == {"city": "上海", "customers": 2}  # biggest first
    assert d["plan_types"] == {"mobile": 2, "broadband": 1, "": 1}
    assert sum(p["customers"] for p in d["plans"]) == d["customers"] == 4
    # tenure from the account's opening: 90 days → 0–6 months, 400 → 12–24, 800 → 24–36, 2000 → 60+
    assert [t["customers"] for t in d["tenure"]] == [1, 0, 1, 1, 0, 1]


def test_churn_factors_equal_direct_sql(data):  # noqa: ANN001
    d = kpi_refresh.churn_factors(TODAY)
    assert d["customers"] == sql("SELECT count(*) FROM customer") == 5
    assert d["churned"] == sql("SELECT count(*) FROM customer WHERE status = 'closed'") == 1
    by_plan = {r["key"]: (r["customers"], r["churned"]) for r in d["by_plan_type"]}
    assert by_plan == {"broadband": (1, 0), "mobile": (3, 1), "none": (1, 0)}
    # complaints: c4 (closed) has 2, c3 has 1, the others none
    assert [(r["customers"], r["churned"]) for r in d["by_complaints"]] == [(3, 0), (1, 0), (1, 1), (0, 0)]
    # arrears: none (c1, c5) / ≤ ¥100 (c2 ¥50, c4 ¥30) / ¥100–500 (c3 ¥160) / over ¥500
    assert [(r["customers"], r["churned"]) for r in d["by_arrears"]] == [(2, 0), (2, 1), (1, 0), (0, 0)]
    assert d["by_arrears"][1]["rate"] == 0.5
    # c4 was opened 210 days ago: 6–12 months
    assert [(r["customers"], r["churned"]) for r in d["by_tenure"]] == [(1, 0), (1, 1), (1, 0), (1, 0), (0, 0), (1, 0)]
    imp = {i["feature"]: i["customers"] for i in d["importances"]}
    assert imp == {"arrears_amount": 3, "tenure_months": 2, "plan_type": 1}
    assert imp["arrears_amount"] == sql("SELECT count(*) FROM churn_score WHERE reasons LIKE :p",
                                        p='%"arrears_amount"%')
    assert d["importances"][0]["feature"] == "arrears_amount" and d["model"]["version"] == 1


def test_refresh_stores_snapshots_and_pages_read_the_newest(data, actor):  # noqa: ANN001
    took = kpi_refresh.refresh(actor("manager"), now=NOW)
    assert set(took) == {"manager", "customers", "churn_factors"}
    snap = dashboards.latest("manager")
    assert snap is not None and snap.computed_at == NOW and snap.as_of == TODAY
    assert snap.data["active_customers"] == 3
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "kpi.refresh")).scalar_one()
    assert json.loads(entry.changes)["kinds"] == ["manager", "customers", "churn_factors"]
    # a later refresh wins; snapshots older than a week are pruned
    db.session.execute(text("UPDATE customer SET status = 'suspended' WHERE status = 'active'"))
    db.session.commit()
    kpi_refresh.refresh(now=NOW + dt.timedelta(days=8), kinds=("manager",))
    assert dashboards.latest("manager").data["active_customers"] == 0
    assert db.session.execute(select(func.count()).select_from(KpiSnapshot)
                              .where(KpiSnapshot.kind == "manager")).scalar() == 1


def test_kpi_refresh_job_runs_under_its_lease(data):  # noqa: ANN001
    run = jobs.execute("kpi_refresh", trigger="manual", now=NOW)
    assert run.status == "success", run.error
    assert set(json.loads(run.counts)) == {"manager_ms", "customers_ms", "churn_factors_ms"}
    assert dashboards.latest("customers").data["customers"] == 4
    assert db.session.execute(select(func.count()).select_from(AuditLog)
                              .where(AuditLog.action == "kpi.refresh")).scalar() == 0  # jobs: job_run only


def test_export_tables_match_the_snapshot(data):  # noqa: ANN001
    kpi_refresh.refresh(now=NOW)
    header, rows = dashboards.table("manager", "aging")
    assert len(header) == 4 and [r[1] for r in rows] == [50.0, 70.0, 30.0, 90.0]
    header, rows = dashboards.table("churn_factors", "by_arrears")
    assert rows[1][1:] == [2, 1, "50.0%"]


def test_unknown_snapshot_kind_is_refused(ctx):  # noqa: ANN001
    from app.services.errors import Invalid, NotFound

    with pytest.raises(Invalid) as err:
        kpi_refresh.refresh(kinds=("nope",))
    assert "kind" in err.value.errors
    with pytest.raises(NotFound):
        dashboards.table("manager", "nope")
    assert db.session.execute(select(func.count()).select_from(KpiSnapshot)).scalar() == 0
