"""Each KPI tile of the manager dashboard links to a list holding exactly the rows it counts (issue 6.5):
churn-risk bands → the customer list, care tasks done this month / overdue → the care-task list,
SLA breaches → the ticket list. The list's rows are counted through its own CSV export (same filters
as the page, every row rather than one page) and compared with the tile's figure."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape

import pytest

from app.extensions import db
from app.models.care import CareTask
from app.services import kpi_refresh
from app.views.kpi_filters import filter_index
from tests.dashboards.conftest import NOW, TODAY

MONTH_START_UTC = dt.datetime(2026, 6, 30, 16, 0)  # 1 July 00:00 in Asia/Shanghai


@pytest.fixture
def population(company):  # noqa: ANN001, ANN201
    """Scores on and around the band edges, SLA clocks in every state, care tasks around the boundaries."""
    c = company
    custs = [c.customer("active") for _ in range(7)]
    closed = c.customer("closed")
    scores = [0.05, 0.1999, 0.2, 0.55, 0.7999, 0.8, 0.97]
    c.scores([(cust, s, ["tenure_months"]) for cust, s in zip(custs, scores, strict=True)]
             + [(closed, 0.9, ["arrears_amount"])])  # closed: not on the chart, not in the list
    t_running, t_stopped, t_response, t_fine = (c.ticket(custs[i], "new") for i in range(4))
    c.sla(t_running, breached=True)
    c.sla(t_stopped, breached=True, stopped=True)
    s = c.sla(t_response, breached=False)
    s.response_breached_at = NOW - dt.timedelta(hours=1)
    db.session.commit()
    c.sla(t_fine, breached=False)
    c.task(custs[0], "done", dt.date(2026, 7, 1), completed=MONTH_START_UTC)  # first instant of the month
    c.task(custs[0], "done", dt.date(2026, 6, 30), completed=MONTH_START_UTC - dt.timedelta(seconds=1))
    c.task(custs[1], "done", dt.date(2026, 7, 10), completed=NOW - dt.timedelta(days=1))
    c.task(custs[1], "open", TODAY - dt.timedelta(days=1))  # overdue
    c.task(custs[2], "open", TODAY - dt.timedelta(days=40))  # overdue
    c.task(custs[2], "open", TODAY)  # due today: not overdue
    c.task(custs[3], "done", TODAY - dt.timedelta(days=3), completed=NOW)  # done: not overdue
    return {"customers": custs, "closed": closed}


def _tile_href(html: str, kpi: str) -> str:
    block = html.split(f'data-kpi="{kpi}"')[1]
    return unescape(re.search(r'class="crm-kpi-link" href="([^"]+)"', block).group(1))


def _list_rows(client, href: str) -> list[list[str]]:  # noqa: ANN001
    """The list page answers, and its export (same query string) gives every row it holds."""
    assert "/list/" in href and "_flt_" in href
    page = client.get(href)
    assert page.status_code == 200
    resp = client.get(href.replace("/list/", "/export/csv/", 1))
    assert resp.status_code == 200
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))[1:]


def test_tiles_link_to_lists_with_exactly_their_rows(population, as_user):  # noqa: ANN001
    snap = kpi_refresh.manager_kpis(TODAY)
    kpi_refresh.refresh(now=NOW)
    client = as_user("manager")
    html = client.get("/dashboard/").get_data(as_text=True)
    assert (snap["sla_breached"], snap["care_done_month"], snap["care_overdue"]) == (2, 3, 2)  # counted by hand
    assert len(_list_rows(client, _tile_href(html, "sla_breached"))) == snap["sla_breached"]
    assert len(_list_rows(client, _tile_href(html, "care_done_month"))) == snap["care_done_month"]
    assert len(_list_rows(client, _tile_href(html, "care_overdue"))) == snap["care_overdue"]


def test_each_churn_band_links_to_its_customers(population, as_user):  # noqa: ANN001
    kpi_refresh.refresh(now=NOW)
    snap = kpi_refresh.manager_kpis(TODAY)
    assert [r["customers"] for r in snap["risk"]] == [2, 1, 1, 1, 2]  # 0.2 and 0.8 open their bands
    client = as_user("manager")
    html = client.get("/dashboard/").get_data(as_text=True)
    table = html.split('id="crm-table-risk"')[1].split("</table>")[0]
    hrefs = [unescape(h) for h in re.findall(r'<a href="([^"]+)"', table)]
    assert len(hrefs) == len(kpi_refresh.RISK_BANDS)
    custs, closed = population["customers"], population["closed"]
    expected = [{custs[0].name, custs[1].name}, {custs[2].name}, {custs[3].name}, {custs[4].name},
                {custs[5].name, custs[6].name}]
    for band, href in enumerate(hrefs):
        names = {r[0] for r in _list_rows(client, href)}
        assert len(names) == snap["risk"][band]["customers"]
        assert names == expected[band] and closed.name not in names


def test_a_bad_filter_value_shows_no_rows_not_an_error(population, as_user):  # noqa: ANN001
    client = as_user("manager")
    assert _list_rows(client, "/customers/list/?_flt_0_churn_risk=nine") == []
    assert _list_rows(client, "/ticket-list/list/?_flt_0_sla_breached=maybe") == []
    ge = filter_index(CareTask, "completed_at", "ge")
    assert _list_rows(client, f"/care/tasks/list/?_flt_{ge}_completed_at=yesterday") == []
