"""A manager in a real browser (issue 6 point 7): open the manager dashboard from the home page, click the
"active customers" KPI into the filtered customer list, and download that list as XLSX — the file holds
exactly the active customers. Nothing the pages load comes from off this machine.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import sign_in
from tests.factories import make_customer

pytestmark = pytest.mark.browser


@pytest.fixture
def customers(actor):  # noqa: ANN001, ANN201
    clerk = actor("clerk1")
    active = [make_customer(clerk, name=n) for n in ("周芷若", "张无忌", "殷素素")]
    suspended = make_customer(clerk, name="谢逊")
    suspended.status = "suspended"
    closed = make_customer(clerk, name="金花婆婆")
    closed.status = "closed"
    db.session.commit()
    return {"active": [c.name for c in active], "other": [suspended.name, closed.name]}


def test_manager_opens_dashboard_clicks_kpi_and_downloads_xlsx(page, live_server, customers):  # noqa: ANN001
    sign_in(page, live_server, "manager")

    # The home page leads managers to their dashboard.
    page.locator("#crm-home-dashboard-link").click()
    page.wait_for_url(live_server.url + "/dashboard/")
    kpi = page.locator('.crm-kpi[data-kpi="active_customers"] a.crm-kpi-link')
    expect(kpi).to_have_text("3")
    expect(page.locator("#crm-kpi-asof")).to_be_visible()
    expect(page.locator("#crm-chart-aging[data-rendered='1']")).to_be_visible()  # ECharts drew (local file)

    # The KPI opens the customer list filtered to exactly those customers.
    kpi.click()
    page.wait_for_url("**/customers/list/?*status=active*")
    for name in customers["active"]:
        expect(page.locator("table").get_by_text(name)).to_be_visible()
    for name in customers["other"]:
        expect(page.locator("table").get_by_text(name)).to_have_count(0)

    # …and that list downloads as XLSX with the same rows.
    with page.expect_download() as info:
        page.locator("a.crm-export-xlsx").first.click()
    path = info.value.path()
    ws = openpyxl.load_workbook(io.BytesIO(Path(path).read_bytes()), read_only=True).active
    rows = [r for r in ws.iter_rows(values_only=True)]
    cells = {str(v) for r in rows[1:] for v in r if v is not None}
    assert len(rows) == 1 + 3
    assert set(customers["active"]) <= cells and not set(customers["other"]) & cells
    assert page.guard.external() == [] and page.console_errors == []
