"""Manager dashboards (issue 6.5): the manager home page, customer analysis and churn factors.

Each page reads the newest pre-aggregated snapshot (`app.services.dashboards`), shows "as of" and,
for managers, a refresh button; each chart's table downloads as CSV/XLSX (audited). Every KPI of
the home page links to the list behind it, using the list views' own FAB filters
(`_flt_<index>_<column>`; the index is the filter's position for that column type, see `_FLT`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.extensions import db
from app.models.base import utcnow
from app.models.care import CareTask
from app.models.customer import SEGMENTS, Customer
from app.models.ticket import Ticket
from app.security.current import current_actor
from app.services import dashboards, exports, kpi_refresh
from app.services.arrears import AGING_BUCKETS
from app.services.errors import CrmError, Invalid, NotFound
from app.views.kpi_filters import filter_index

# FAB's filter positions (SQLAFilterConverter): strings → 3 equal, 7 not equal; dates → 0 equal,
# 1 greater than, 2 smaller than; relations → 0 equal.
_FLT = {"eq": 3, "neq": 7, "date_eq": 0, "gt": 1, "lt": 2, "rel": 0}


def _list_url(endpoint: str, filters: list[tuple[str, str, Any]]) -> str:
    """A FAB list URL with `(column, operator, value)` filters (a column may repeat: ANDed)."""
    args = [(f"_flt_{_FLT[op]}_{col}", str(value)) for col, op, value in filters]
    return url_for(endpoint) + ("?" + urlencode(args) if args else "")


def _safe_url(endpoint: str, filters: list[tuple[str, str, Any]] | None = None) -> str | None:
    """The list's URL, or None if that area's view is not registered in this build."""
    try:
        return _list_url(endpoint, filters or [])
    except Exception:  # noqa: BLE001 - werkzeug BuildError: the page is simply not linked
        return None


def _filtered_url(endpoint: str, model: type, filters: list[tuple[str, str, Any]]) -> str | None:
    """The list's URL with `(column, FAB operator arg_name, value)` filters, each operator's
    `_flt_` index looked up on the list's own filters (`kpi_filters.filter_index`)."""
    try:
        args = [(f"_flt_{filter_index(model, col, op)}_{col}", str(value)) for col, op, value in filters]
        return url_for(endpoint) + "?" + urlencode(args)
    except Exception:  # noqa: BLE001 - werkzeug BuildError: that list is not registered in this build
        return None


def manager_links(d: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """The filtered list behind each KPI of the manager page (None: no list to link)."""
    bills = "BillModelView.list"
    overdue = [("status", "neq", "paid"), ("due_date", "lt", today.isoformat())]
    aging = []
    for lo, hi in AGING_BUCKETS:
        # lo..hi days past due ⇔ today-hi ≤ due_date ≤ today-lo (and past due: < today)
        flt = [("status", "neq", "paid"), ("due_date", "lt", min(today, today - dt.timedelta(days=lo - 1)).isoformat())]
        if hi is not None:
            flt.append(("due_date", "gt", (today - dt.timedelta(days=hi + 1)).isoformat()))
        aging.append(_safe_url(bills, flt))
    churn = _safe_url("ChurnRiskView.index")
    # The tiles' exact populations (definitions in `kpi_refresh.manager_kpis`).
    not_closed = ("status", "neq", "closed")
    risk_bands = [_filtered_url("CustomerModelView.list", Customer, [not_closed, ("churn_risk", "churn_band", i)])
                  for i in range(len(kpi_refresh.RISK_BANDS))]
    month_start = kpi_refresh._to_utc(today.replace(day=1))  # noqa: SLF001 - the figure's own boundary
    care_done = _filtered_url("CareTaskListView.list", CareTask,
                              [("status", "eq", "done"), ("completed_at", "ge", month_start.isoformat(sep=" "))])
    care_overdue = _filtered_url("CareTaskListView.list", CareTask,
                                 [("status", "eq", "open"), ("due_date", "lt", today.isoformat())])
    return {
        "active_customers": _safe_url("CustomerModelView.list", [("status", "eq", "active")]),
        "revenue_this_month": _safe_url(bills, [("month", "date_eq", d["month"])]),
        "revenue_last_month": _safe_url(bills, [("month", "date_eq", d["last_month"])]),
        "arpu": _safe_url(bills, [("month", "date_eq", d["month"])]),
        "arrears_total": _safe_url(bills, overdue),
        "aging": aging,
        "risk": churn,
        "risk_bands": risk_bands,
        "open_tickets": _safe_url("TicketModelView.list", [("status", "neq", "resolved"), ("status", "neq", "closed")]),
        "sla_breached": _filtered_url("TicketModelView.list", Ticket, [("sla_breached", "sla_breached", 1)]),
        "care": _safe_url("CareTeamView.index"),
        "care_done": care_done,
        "care_overdue": care_overdue,
    }


def customer_links(d: dict[str, Any], today: dt.date) -> dict[str, Any]:
    customers = "CustomerModelView.list"
    not_closed = ("status", "neq", "closed")
    tenure = []
    for oldest, newest in kpi_refresh._tenure_thresholds(today):
        flt = [not_closed]
        if oldest is not None:
            flt.append(("created_at", "gt", oldest.isoformat(sep=" ")))
        if newest is not None:
            flt.append(("created_at", "lt", newest.isoformat(sep=" ")))
        tenure.append(_safe_url(customers, flt))
    return {
        "segments": [_safe_url(customers, [not_closed, ("segment", "eq", s)]) for s in SEGMENTS],
        "plans": [_safe_url(customers, [not_closed, ("plan", "rel", p["id"])]) if p["id"] else None
                  for p in d["plans"]],
        "cities": [_safe_url(customers, [not_closed, ("city", "eq", c["city"])]) if c.get("city") else None
                   for c in d["cities"]],
        "tenure": tenure,
    }


class _SnapshotPage(BaseView):
    """One pre-aggregated page: index (read the snapshot), refresh (POST), export (one chart)."""

    kind = ""
    template = ""
    default_view = "index"
    method_permission_name = {"index": "list", "export": "list", "refresh": "edit"}

    def _context(self, snap: dashboards.Snapshot) -> dict[str, Any]:
        return {}

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        snap = dashboards.current(self.kind)
        return self.render_template(
            self.template, snap=snap, d=snap.data, tables=dashboards.tables(snap),
            options=dashboards.chart_options(snap), titles=dashboards.CHARTS[self.kind],
            export_endpoint=f"{type(self).__name__}.export", refresh_endpoint=f"{type(self).__name__}.refresh",
            can_refresh=self.appbuilder.sm.has_access("can_edit", type(self).__name__),
            **self._context(snap),
        )

    @expose("/refresh", methods=["POST"])
    @has_access
    def refresh(self):  # noqa: ANN201
        try:
            took = kpi_refresh.refresh(current_actor(), kinds=(self.kind,))
        except CrmError as exc:
            db.session.rollback()
            flash(exc.text(), "danger")
        else:
            flash(_("Figures refreshed in %(ms)d ms.", ms=took[self.kind]), "success")
        return redirect(url_for(f"{type(self).__name__}.index"))

    @expose("/export/<chart>")
    @has_access
    def export(self, chart: str):  # noqa: ANN201
        try:
            fmt = exports.check_format(request.args.get("format"))
            header, rows = dashboards.table(self.kind, chart)
        except Invalid:
            abort(400)
        except NotFound:
            abort(404)
        dashboards.record_export(current_actor(), self.kind, chart, fmt, len(rows))
        return exports.export_response(fmt, f"{self.kind}-{chart}-{utcnow():%Y%m%d}", header, rows,
                                       sheet=chart)


class ManagerDashboardView(_SnapshotPage):
    """经理首页: the company's key figures, each linking to the list behind it."""

    route_base = "/dashboard"
    kind = "manager"
    template = "crm/dashboard_manager.html"

    def _context(self, snap: dashboards.Snapshot) -> dict[str, Any]:
        return {"links": manager_links(snap.data, snap.as_of),
                "aging_labels": [dashboards.aging_label(lo, hi) for lo, hi in AGING_BUCKETS]}


class CustomerAnalysisView(_SnapshotPage):
    """客户分析: value segments, plan mix, cities and tenure of the open customers."""

    route_base = "/analytics/customers"
    kind = "customers"
    template = "crm/dashboard_customers.html"

    def _context(self, snap: dashboards.Snapshot) -> dict[str, Any]:
        return {"links": customer_links(snap.data, snap.as_of)}


class ChurnFactorsView(_SnapshotPage):
    """流失因素: what drives the current churn model's scores, and churn rates by factor."""

    route_base = "/analytics/churn-factors"
    kind = "churn_factors"
    template = "crm/dashboard_churn_factors.html"
