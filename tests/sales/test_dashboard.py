"""Sales dashboard: figures equal a direct SQL count on seeded data; filters; CSV/XLSX export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from decimal import Decimal

from sqlalchemy import text

from app.extensions import db
from app.services import contact_logs, leads, opportunities, sales_dashboard
from app.services.sales_dashboard import Filters
from tests.conftest import actor_for
from tests.sales.conftest import an_id_number, make_lead, make_opportunity

REASONS = ("price", "competitor", "no need")


def seed() -> None:
    """A mixed pipeline for two salespeople: every path, random but reproducible."""
    rnd = random.Random(7)
    for i in range(24):
        who = "sales1" if i % 3 else "sales2"
        if i % 4 == 0:  # via lead conversion (some new customers)
            lead = make_lead(who, id_number=an_id_number())
            contact_logs.create({"lead_id": lead.id, "method": "phone", "content": "call"}, actor_for(who))
            opp = leads.convert(lead.id, {"expected_revenue": str(100 + i)}, actor_for(who))
        else:
            opp = make_opportunity(who, expected_revenue=str(100 + i))
        path = rnd.choice([[], ["intent"], ["intent", "negotiation"], ["intent", "negotiation", "won"],
                           ["lost"], ["intent", "lost"], ["intent", "negotiation", "intent"]])
        for step in path:
            opportunities.move(opp.id, step, actor_for(who), reason=rnd.choice(REASONS))


def whole_year() -> Filters:
    today = dt.date.today()
    return Filters(today - dt.timedelta(days=365), today + dt.timedelta(days=1), None)


def sql(query: str, **params) -> list[tuple]:  # noqa: ANN003
    return [tuple(r) for r in db.session.execute(text(query), params).all()]


def test_figures_equal_direct_sql_counts(ctx, actor):
    seed()
    f = whole_year()
    manager = actor("manager")
    funnel = {r["stage"]: r for r in sales_dashboard.funnel(f, manager)}
    assert funnel["potential"]["count"] == sql("SELECT count(*) FROM opportunity")[0][0]
    for stage in ("intent", "negotiation", "won"):
        expected = sql("SELECT count(DISTINCT opportunity_id) FROM opportunity_stage_change WHERE to_stage = :s",
                       s=stage)[0][0]
        assert funnel[stage]["count"] == expected, stage
    assert funnel["intent"]["rate"] == round(100.0 * funnel["intent"]["count"] / funnel["potential"]["count"], 1)
    won_total, won_n = sql("SELECT sum(expected_revenue), count(*) FROM opportunity WHERE stage = 'won'")[0]
    months = sales_dashboard.revenue_by_month(f, manager)
    assert sum(m["revenue"] for m in months) == Decimal(str(won_total or 0)).quantize(Decimal("0.01"))
    assert sum(m["deals"] for m in months) == won_n
    people = {r["username"]: r for r in sales_dashboard.by_salesperson(f, manager)}
    for name in ("sales1", "sales2"):
        uid = actor_for(name).id
        n, rev = sql("SELECT count(*), coalesce(sum(expected_revenue), 0) FROM opportunity "
                     "WHERE stage = 'won' AND owner_id = :u", u=uid)[0]
        new = sql("SELECT count(*) FROM lead WHERE created_customer = :t AND owner_id = :u", t=True, u=uid)[0][0]
        row = people.get(name, {"deals": 0, "revenue": Decimal("0"), "new_customers": 0})
        assert (row["deals"], row["revenue"], row["new_customers"]) == (
            n, Decimal(str(rev)).quantize(Decimal("0.01")), new), name
    lost = {r["reason"]: r["count"] for r in sales_dashboard.lost_reasons(f, manager)}
    assert lost == dict(sql("SELECT lost_reason, count(*) FROM opportunity WHERE stage = 'lost' GROUP BY lost_reason"))


def test_filter_by_salesperson_and_period(ctx, actor):
    seed()
    manager = actor("manager")
    uid = actor_for("sales2").id
    f = whole_year()
    mine = sales_dashboard.funnel(Filters(f.start, f.end, uid), manager)
    assert mine[0]["count"] == sql("SELECT count(*) FROM opportunity WHERE owner_id = :u", u=uid)[0][0]
    past = Filters(dt.date(2020, 1, 1), dt.date(2020, 12, 31), None)
    assert sales_dashboard.funnel(past, manager)[0]["count"] == 0
    assert sales_dashboard.by_salesperson(past, manager) == []


def test_dashboard_page_and_exports(app, as_user):
    with app.app_context():
        seed()
        expected = {r["stage"]: r["count"] for r in sales_dashboard.funnel(whole_year(), actor_for("manager"))}
    c = as_user("manager")
    start = (dt.date.today() - dt.timedelta(days=365)).isoformat()
    page = c.get(f"/sales/dashboard/?start={start}").get_data(as_text=True)
    assert 'id="crm-chart-funnel"' in page and 'id="crm-chart-lost_reasons"' in page
    assert "echarts-6.1.0.min.js" in page and "cdn" not in page.lower()
    resp = c.get(f"/sales/dashboard/export/funnel?format=csv&start={start}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert [int(r[1]) for r in rows[1:]] == [expected[s] for s in ("potential", "intent", "negotiation", "won")]
    for chart in ("revenue", "salespeople", "lost_reasons"):
        resp = c.get(f"/sales/dashboard/export/{chart}?format=xlsx&start={start}")
        assert resp.status_code == 200 and resp.data[:2] == b"PK", chart
    assert c.get("/sales/dashboard/export/funnel?format=pdf").status_code == 422
    assert c.get("/sales/dashboard/export/nothing?format=csv").status_code == 422
    assert c.get("/sales/dashboard/?start=bad").status_code == 200  # a message, the default period
    with app.app_context():
        assert sql("SELECT count(*) FROM audit_log WHERE action = 'export' AND entity = 'sales_dashboard'")[0][0] == 4
