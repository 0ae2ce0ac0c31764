"""Hand-written sales pages: the pipeline board (kanban by stage, buttons move through the same
service as the form) and the managers' sales dashboard with CSV/XLSX export of every chart."""

from __future__ import annotations

from typing import Any

from flask import flash, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.models.opportunity import OPEN_STAGES, STAGES
from app.security.access import sees_all_sales
from app.security.current import current_actor
from app.services import audit, exports, opportunities, sales_dashboard
from app.services.errors import CrmError, Invalid
from app.services.opportunities import TRANSITIONS
from app.services.sales import STAGE_LABELS
from app.services.validation import check_id
from app.views.sales import _today


class SalesBoardView(BaseView):
    """Pipeline board: one column per stage; each card offers the legal moves."""

    route_base = "/sales/board"
    default_view = "index"
    method_permission_name = {"index": "list"}

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        actor = current_actor()
        owner = check_id(request.args.get("owner")) if sees_all_sales(actor) else None
        columns = opportunities.board(actor, owner)
        # Translated once: each of up to 200 cards prints its move buttons' labels.
        labels = {stage: str(text) for stage, text in STAGE_LABELS.items()}
        return self.render_template(
            "crm/sales_board.html", stages=STAGES, open_stages=OPEN_STAGES, labels=labels, columns=columns,
            moves={s: [(t, labels[t]) for t in TRANSITIONS[s]] for s in STAGES},
            totals=opportunities.board_totals(actor, owner),
            owners=sales_dashboard.salespeople() if sees_all_sales(actor) else [], owner=owner, today=_today())


class SalesDashboardView(BaseView):
    route_base = "/sales/dashboard"
    default_view = "index"
    method_permission_name = {"index": "list", "export": "list"}

    def _filters(self) -> sales_dashboard.Filters | None:
        try:
            return sales_dashboard.parse_filters(request.args, _today())
        except Invalid as exc:
            flash(exc.text(), "danger")
            return sales_dashboard.parse_filters({}, _today())

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        actor = current_actor()
        f = self._filters()
        try:
            funnel = sales_dashboard.funnel(f, actor)
            revenue = sales_dashboard.revenue_by_month(f, actor)
            people = sales_dashboard.by_salesperson(f, actor)
            lost = sales_dashboard.lost_reasons(f, actor)
        except CrmError:
            return self.render_template("crm/not_found.html"), 404
        query = {"start": f.start.isoformat(), "end": f.end.isoformat(), "owner": f.owner_id or ""}
        return self.render_template(
            "crm/sales_dashboard.html", f=f, query=query, owners=sales_dashboard.salespeople(),
            funnel=funnel, revenue=revenue, people=people, lost=lost,
            options=_options(funnel, revenue, people, lost))

    @expose("/export/<chart>")
    @has_access
    def export(self, chart: str):  # noqa: ANN201
        actor = current_actor()
        try:
            fmt = exports.check_format(request.args.get("format"))
            f = sales_dashboard.parse_filters(request.args, _today())
            header, rows = sales_dashboard.table(chart, f, actor)
        except CrmError as exc:
            return {"message": exc.normalized_messages()}, exc.status
        audit.record(actor, "export", "sales_dashboard", chart, {
            "format": fmt, "start": f.start.isoformat(), "end": f.end.isoformat(), "owner": f.owner_id,
            "rows": len(rows)})
        from app.extensions import db

        db.session.commit()
        return exports.export_response(fmt, f"sales-{chart}-{f.start}-{f.end}", header, rows)


def _options(funnel: list, revenue: list, people: list, lost: list) -> dict[str, Any]:
    """ECharts options, built here with translated titles; the page ships them as JSON."""
    return {
        "funnel": {
            "tooltip": {"trigger": "item"},
            "series": [{"type": "funnel", "sort": "none", "left": "10%", "width": "80%",
                        "label": {"show": True, "position": "inside"},
                        "data": [{"name": f"{r['label']} {r['count']}" + (f" ({r['rate']}%)" if r["rate"] is not None
                                                                          else ""), "value": r["count"]}
                                 for r in funnel]}],
        },
        "revenue": {
            "tooltip": {"trigger": "axis"},
            "xAxis": {"type": "category", "data": [r["month"] for r in revenue]},
            "yAxis": {"type": "value", "name": _("Won revenue")},
            "series": [{"type": "line", "name": _("Won revenue"), "data": [float(r["revenue"]) for r in revenue]}],
        },
        "salespeople": {
            "tooltip": {"trigger": "axis"},
            "legend": {"data": [_("Won revenue"), _("Deals won"), _("New customers")]},
            "xAxis": {"type": "category", "data": [r["username"] for r in people]},
            "yAxis": [{"type": "value", "name": _("Won revenue")}, {"type": "value", "name": _("Count")}],
            "series": [
                {"type": "bar", "name": _("Won revenue"), "data": [float(r["revenue"]) for r in people]},
                {"type": "bar", "name": _("Deals won"), "yAxisIndex": 1, "data": [r["deals"] for r in people]},
                {"type": "bar", "name": _("New customers"), "yAxisIndex": 1,
                 "data": [r["new_customers"] for r in people]},
            ],
        },
        "lost_reasons": {
            "tooltip": {"trigger": "item"},
            "series": [{"type": "pie", "radius": "60%", "data": [{"name": r["reason"], "value": r["count"]}
                                                                 for r in lost]}],
        },
    }
