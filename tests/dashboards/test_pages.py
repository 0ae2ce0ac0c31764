"""Dashboard pages over HTTP: who may open them, KPI links into the filtered lists, refresh, CSV/XLSX exports."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape

import openpyxl
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit_log import AuditLog
from app.services import kpi_refresh
from tests.dashboards.conftest import NOW
from tests.dashboards.test_kpis import data  # noqa: F401 - fixture reused

PAGES = ("/dashboard/", "/analytics/customers/", "/analytics/churn-factors/")


def _href(html: str, kpi: str) -> str:
    block = html.split(f'data-kpi="{kpi}"')[1]
    return unescape(re.search(r'class="crm-kpi-link" href="([^"]+)"', block).group(1))


@pytest.mark.parametrize("user", ["sales1", "clerk1", "agent1"])
def test_pages_are_for_managers_only(as_user, user):  # noqa: ANN001
    client = as_user(user)
    for page in PAGES:
        assert client.get(page).status_code in (302, 403), page
    assert client.get("/dashboard/export/kpis?format=csv").status_code in (302, 403)
    assert client.post("/dashboard/refresh").status_code in (302, 403)
    assert kpi_refresh.COMPUTE  # nothing was computed for them
    assert "crm-home-dashboard" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("user", ["manager", "admin2"])
def test_pages_render_for_managers_and_admins(data, as_user, user):  # noqa: ANN001, F811
    client = as_user(user)
    for page in PAGES:
        resp = client.get(page)
        assert resp.status_code == 200, page
        html = resp.get_data(as_text=True)
        assert 'id="crm-kpi-asof"' in html and 'id="crm-kpi-refresh"' in html
        assert "<script>" not in html  # charts ship JSON only (CSP)
        assert 'type="application/json" id="crm-chart-data-' in html
    home = client.get("/").get_data(as_text=True)
    assert 'id="crm-home-dashboard-link"' in home


def test_manager_page_shows_figures_and_links_to_filtered_lists(data, as_user):  # noqa: ANN001, F811
    kpi_refresh.refresh(now=NOW)
    client = as_user("manager")
    html = client.get("/dashboard/").get_data(as_text=True)
    assert ">3</a>" in html.split('data-kpi="active_customers"')[1].split("</div>\n</div>")[0]
    # active customers → the customer list filtered on status = active: exactly those rows
    listing = client.get(_href(html, "active_customers")).get_data(as_text=True)
    assert listing.count("测试客户") >= 3
    c1, c2, c3, c4, c5 = data
    for c in (c1, c2, c5):
        assert c.name in listing
    for c in (c3, c4):
        assert c.name not in listing
    # arrears → the bill list: unpaid and past due
    href = _href(html, "arrears_total")
    assert "_flt_7_status=paid" in href and "_flt_2_due_date=2026-07-15" in href
    bills = client.get(href).get_data(as_text=True)
    assert bills.count("2026-05-20") == 1 and "2026-07-28" not in bills  # c3's May bill listed, July's not due
    # the 31–60 days bucket → exactly the bill 56 days past due
    aging = client.get(unescape(re.findall(r'<a href="([^"]+)">', html.split('id="crm-table-aging"')[1])[1]))
    assert aging.get_data(as_text=True).count("2026-05-20") == 1 and "2026-04-10" not in aging.get_data(as_text=True)
    # open tickets → the ticket list without resolved and closed
    href = _href(html, "open_tickets")
    assert href.count("_flt_7_status=") == 2
    tickets = client.get(href).get_data(as_text=True)
    assert tickets.count("<tr") >= 3


def test_refresh_button_recomputes_and_is_audited(data, as_user):  # noqa: ANN001, F811
    kpi_refresh.refresh(now=NOW)
    client = as_user("manager")
    resp = client.post("/dashboard/refresh")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/dashboard/")
    entries = db.session.execute(select(AuditLog).where(AuditLog.action == "kpi.refresh")).scalars().all()
    assert len(entries) == 1 and json.loads(entries[0].changes)["kinds"] == ["manager"]


def test_chart_exports_csv_and_xlsx_are_audited(data, as_user):  # noqa: ANN001, F811
    kpi_refresh.refresh(now=NOW)  # the figures of the test's day
    client = as_user("manager")
    resp = client.get("/dashboard/export/aging?format=csv")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 5 and [float(r[1]) for r in rows[1:]] == [50.0, 70.0, 30.0, 90.0]
    resp = client.get("/analytics/customers/export/cities?format=xlsx")
    assert resp.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(resp.get_data())).active
    values = list(ws.iter_rows(values_only=True))
    assert values[1] == ("上海", 2)
    resp = client.get("/analytics/churn-factors/export/importances?format=csv")
    assert resp.status_code == 200
    entries = db.session.execute(select(AuditLog).where(AuditLog.action == "export",
                                                        AuditLog.entity == "dashboard_chart")).scalars().all()
    changes = [json.loads(e.changes) for e in entries]
    assert {(c["page"], c["chart"], c["format"], c["rows"]) for c in changes} == {
        ("manager", "aging", "csv", 4), ("customers", "cities", "xlsx", 3),
        ("churn_factors", "importances", "csv", 3)}


def test_bad_export_requests_are_4xx(data, as_user):  # noqa: ANN001, F811
    client = as_user("manager")
    assert client.get("/dashboard/export/aging?format=pdf").status_code == 400
    assert client.get("/dashboard/export/nope?format=csv").status_code == 404


def test_kpi_list_downloads_as_xlsx_with_the_same_rows(data, as_user):  # noqa: ANN001, F811
    """The browser journey without a browser: KPI → filtered list → that list's XLSX export button."""
    client = as_user("manager")
    html = client.get("/dashboard/").get_data(as_text=True)
    listing = client.get(_href(html, "active_customers")).get_data(as_text=True)
    match = re.search(r'class="[^"]*crm-export-xlsx[^"]*" href="([^"]+)"', listing)
    if match is None:
        pytest.skip("the list export button (issue 6.6, app/views/list_export.py) is not on this list")
    resp = client.get(unescape(match.group(1)))
    assert resp.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(resp.get_data()), read_only=True).active.iter_rows(values_only=True))
    cells = {str(v) for r in rows[1:] for v in r if v is not None}
    c1, c2, c3, c4, c5 = data
    assert len(rows) == 1 + 3 and {c1.name, c2.name, c5.name} <= cells and c3.name not in cells
