"""Analytics exports (issue 6.6): the anonymised customer file for data analysts, and the data behind
the segments and forecast charts. Streamed, audited; `can_export` on AnalyticsExportView (Managers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import request, stream_with_context
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.models.base import utcnow
from app.security.current import current_actor
from app.services import anonymised_export, chart_export, exports, list_export
from app.services.errors import CrmError, Invalid


def _month_arg(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError as exc:
        raise Invalid({"month": _("Month must look like 2026-03.")}) from exc


def _error(exc: CrmError) -> tuple[dict[str, Any], int]:
    from app.extensions import db

    db.session.rollback()
    return {"message": exc.normalized_messages()}, exc.status


class AnalyticsExportView(BaseView):
    """匿名分析导出 and chart-data downloads."""

    route_base = "/analytics/export"
    default_view = "index"
    method_permission_name = {"index": "list", "anonymised": "export", "segments": "export", "forecast": "export"}

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        return self.render_template("crm/anonymised_export.html", columns=anonymised_export.COLUMNS,
                                    months=anonymised_export.ARPU_MONTHS)

    def _table(self, fmt_arg: str | None, name: str, table: chart_export.Table, details: dict[str, Any]) -> Any:
        sheet, header, rows = table
        fmt = exports.check_format(fmt_arg)
        body = list_export.stream(current_actor(), fmt, name, header, rows, details, sheet=sheet)
        return exports.file_response(fmt, f"{sheet}-{utcnow():%Y%m%d}", stream_with_context(body))

    @expose("/anonymised")
    @has_access
    def anonymised(self):  # noqa: ANN201
        from app.services.care import business_date

        try:
            fmt = exports.check_format(request.args.get("format"))
            body = anonymised_export.export(current_actor(), fmt, business_date(utcnow()))
        except CrmError as exc:
            return _error(exc)
        return exports.file_response(fmt, f"customers-anonymised-{utcnow():%Y%m%d}", stream_with_context(body))

    @expose("/segments/<chart>")
    @has_access
    def segments(self, chart: str):  # noqa: ANN201
        try:
            month = _month_arg(request.args.get("month"))
            table = chart_export.segment_chart(chart, month)
            return self._table(request.args.get("format"), f"chart:segments:{chart}", table,
                               {"month": month.strftime("%Y-%m") if month else None})
        except CrmError as exc:
            return _error(exc)

    @expose("/forecast")
    @has_access
    def forecast(self):  # noqa: ANN201
        from app.services.care import business_date

        measure = request.args.get("measure") or "revenue"
        try:
            table = chart_export.forecast_table(business_date(utcnow()), measure)
            return self._table(request.args.get("format"), "chart:forecast", table, {"measure": measure})
        except CrmError as exc:
            return _error(exc)
