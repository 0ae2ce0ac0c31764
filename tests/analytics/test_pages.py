"""Analytics pages: value segments, the high-risk high-value list (row rules, export) and the
customer 360's churn panel."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select

from app.extensions import appbuilder, db
from app.models.audit_log import AuditLog
from app.models.customer import Customer
from app.services import churn, segments
from tests.analytics.test_churn import NOW, _scoring_pair, history  # noqa: F401 - fixture reused
from tests.analytics.test_segments import NOW as SEG_NOW
from tests.analytics.test_segments import TODAY as SEG_TODAY
from tests.analytics.test_segments import people  # noqa: F401 - fixture reused


def test_segments_page_shows_distribution_and_movement(people, as_user):  # noqa: ANN001, F811
    segments.recompute(dt.datetime(2026, 2, 14, 20), today=dt.date(2026, 2, 15))
    segments.recompute(SEG_NOW, today=SEG_TODAY)
    page = as_user("manager").get("/analytics/segments/?month=2026-03")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-segment="high_value"><td><a' in html
    row = html.split('data-segment="low_value"')[1].split("</tr>")[0]
    assert '<td class="text-right crm-count">1</td>' in row and '<td class="text-right crm-risk">1</td>' in row
    assert 'id="crm-segment-movement"' in html and "2026-02" in html
    assert 'id="crm-chart-data-segments"' in html


def test_segments_page_is_for_managers(as_user):  # noqa: ANN001
    assert as_user("clerk1").get("/analytics/segments/").status_code in (302, 403)
    assert as_user("sales1").get("/analytics/segments/").status_code in (302, 403)
    assert as_user("manager").get("/analytics/segments/").status_code == 200  # empty: no snapshot yet


def _risky_customers(build):  # noqa: ANN001, ANN202
    debtor, clean = _scoring_pair(build)
    other, s = build.customer(dt.date(2024, 1, 1), fee="99.00")
    build.months(other, s, dt.date(2025, 1, 1), dt.date(2026, 2, 1), 99)
    build.months(other, s, dt.date(2026, 3, 1), dt.date(2026, 6, 1), 99, data_mb=2048, voice=40, paid=False)
    sales1 = appbuilder.sm.find_user(username="sales1").id
    db.session.query(Customer).filter(Customer.id.in_([debtor.id, other.id, clean.id])).update(
        {"segment": "high_value"}, synchronize_session=False)
    db.session.query(Customer).filter_by(id=debtor.id).update({"owner_id": sales1}, synchronize_session=False)
    db.session.commit()
    churn.train_and_score(now=NOW)
    return debtor, other, clean


def test_churn_list_shows_reasons_and_follows_row_rules(history, build, as_user):  # noqa: ANN001, F811
    debtor, other, clean = _risky_customers(build)
    html = as_user("manager").get("/analytics/churn/").get_data(as_text=True)
    assert f'data-customer-id="{debtor.id}"' in html and f'data-customer-id="{other.id}"' in html
    assert f'data-customer-id="{clean.id}"' not in html
    assert "欠费 ¥297.00" in html
    assert 'id="crm-churn-versions"' in html and "v1" in html
    html = as_user("sales1").get("/analytics/churn/").get_data(as_text=True)
    assert f'data-customer-id="{debtor.id}"' in html and f'data-customer-id="{other.id}"' not in html
    assert 'id="crm-churn-versions"' not in html  # model details are for managers
    assert as_user("clerk1").get("/analytics/churn/").status_code in (302, 403)


def test_churn_list_exports_csv_with_an_audit_entry(history, build, as_user):  # noqa: ANN001, F811
    debtor, other, _ = _risky_customers(build)
    resp = as_user("manager").get("/analytics/churn/export?format=csv")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3  # header + the two customers
    assert {r[0] for r in rows[1:]} == {debtor.name, other.name}
    assert all("****" in r[1] for r in rows[1:])  # mobiles masked
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "export")
                               .order_by(AuditLog.id.desc())).scalars().first()
    assert entry is not None and '"rows": 2' in (entry.changes or "")
    assert as_user("manager").get("/analytics/churn/export?format=pdf").status_code == 400


def test_customer_360_shows_churn_reasons_and_segment_date(history, build, as_user):  # noqa: ANN001, F811
    debtor, _, clean = _risky_customers(build)
    segments.recompute(NOW, today=dt.date(2026, 7, 15))
    html = as_user("manager").get(f"/customer360/{debtor.id}").get_data(as_text=True)
    panel = html.split('id="crm-churn"')[1].split('id="crm-arrears"')[0]
    assert "欠费 ¥297.00" in panel
    assert 'class="crm-churn-score">' in panel and "模型 v1" in panel
    assert "计算于 2026-07-15" in panel  # 04:00 local time on the 15th
    html = as_user("manager").get(f"/customer360/{clean.id}").get_data(as_text=True)
    assert "crm-churn-reasons" in html.split('id="crm-churn"')[1].split('id="crm-arrears"')[0]
