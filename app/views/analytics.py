"""Analytics pages: value segments (distribution, monthly trend, movement between segments) and
churn risk (the "high risk, high value" list with reasons, and the model versions with metrics)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.labels import PLAN_TYPE_CHOICES, SEGMENT_CHOICES, label_of
from app.models.base import utcnow
from app.models.customer import SEGMENTS
from app.security.current import current_actor
from app.services import audit, churn, exports, forecast, segments
from app.services.errors import Invalid

PAGE_SIZE = 50


def _month_arg(value: str | None) -> dt.date | None:
    try:
        return dt.datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return None


def _segment_names() -> list[str]:
    return [label_of(SEGMENT_CHOICES, s) for s in SEGMENTS]


class SegmentsView(BaseView):
    """客户价值分群: current distribution, monthly snapshots and month-over-month movement."""

    route_base = "/analytics/segments"
    default_view = "index"
    method_permission_name = {"index": "list"}

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        months = segments.snapshot_months(12)
        month = _month_arg(request.args.get("month"))
        if month not in months:
            month = months[0] if months else None
        current = segments.distribution()
        names = _segment_names()
        dist_option = {
            "tooltip": {"trigger": "axis"},
            "legend": {"data": [_("Customers"), _("At risk")]},
            "xAxis": {"type": "category", "data": names},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [
                {"name": _("Customers"), "type": "bar", "data": [current[s]["customers"] for s in SEGMENTS]},
                {"name": _("At risk"), "type": "bar", "data": [current[s]["at_risk"] for s in SEGMENTS]},
            ],
        }
        by_month = segments.monthly_distribution(list(reversed(months)))
        trend_option = {
            "tooltip": {"trigger": "axis"},
            "legend": {"data": names},
            "xAxis": {"type": "category", "data": [m.strftime("%Y-%m") for m in by_month]},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [{"name": label_of(SEGMENT_CHOICES, s), "type": "bar", "stack": "all",
                        "data": [counts[s] for counts in by_month.values()]} for s in SEGMENTS],
        }
        moves = segments.movement(month) if month else {}
        matrix = [
            {"from": label_of(SEGMENT_CHOICES, a) if a else _("New this month"),
             "cells": [moves.get((a, b), 0) for b in SEGMENTS],
             "total": sum(moves.get((a, b), 0) for b in SEGMENTS)}
            for a in (*SEGMENTS, None)
        ]
        computed = segments.last_computed()
        return self.render_template(
            "crm/analytics_segments.html", current=current, segments=SEGMENTS, names=names,
            dist_option=dist_option, trend_option=trend_option, months=months, month=month, matrix=matrix,
            settings=segments.settings(), computed=computed, total=sum(v["customers"] for v in current.values()),
        )


class ChurnRiskView(BaseView):
    """流失预警: high churn risk among high-value customers, with the model's reasons; model versions."""

    route_base = "/analytics/churn"
    default_view = "index"
    method_permission_name = {"index": "list", "export": "list"}

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        actor = current_actor()
        try:
            page = max(0, int(request.args.get("page", 0)))
        except ValueError:
            page = 0
        total, rows = churn.high_risk_high_value(actor, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
        items = [{"customer": c, "score": s, "reasons": churn.reasons_of(s)} for c, s in rows]
        bands = churn.risk_distribution(actor)
        band_option = {
            "tooltip": {"trigger": "axis"},
            "xAxis": {"type": "category", "data": [b for b, _n in bands], "name": _("Churn risk")},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [{"name": _("Customers"), "type": "bar", "data": [n for _b, n in bands]}],
        }
        return self.render_template(
            "crm/analytics_churn.html", items=items, total=total, page=page, page_size=PAGE_SIZE,
            threshold=churn.high_risk_threshold(),
            segment_names=[label_of(SEGMENT_CHOICES, s) for s in churn.high_value_segments()],
            versions=churn.versions(10) if actor.has_role("Admin", "Manager") else [],
            band_option=band_option, active=churn.active_version(),
        )

    @expose("/export")
    @has_access
    def export(self):  # noqa: ANN201
        actor = current_actor()
        try:
            fmt = exports.check_format(request.args.get("format"))
        except Invalid:
            abort(400)
        total, rows = churn.high_risk_high_value(actor, limit=1_000_000)
        audit.record(actor, "export", "churn_risk", None, {"format": fmt, "rows": total})
        from app.extensions import db

        db.session.commit()
        header = [_("Customer"), _("Mobile"), _("Segment"), _("Churn risk"), _("Top reasons"), _("Scored at")]

        def body() -> Any:
            for c, s in rows:
                yield [c.name, c.mobile_masked, c.segment_label, f"{s.score:.2f}", "; ".join(churn.reasons_of(s)),
                       s.scored_at.strftime("%Y-%m-%d %H:%M")]

        return exports.export_response(fmt, f"churn-risk-{utcnow():%Y%m%d}", header, body(), sheet="churn")


def _forecast_option(f: forecast.Forecast, unit: str) -> dict[str, Any]:
    def r(values: list[float | None]) -> list[float | None]:
        return [round(v, 2) if v is not None else None for v in values]

    band = [(hi - lo) if hi is not None and lo is not None else None for lo, hi in zip(f.lower, f.upper, strict=True)]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [_("Actual"), _("Forecast"), _("Back-test"), _("Interval (95%)")]},
        "xAxis": {"type": "category", "data": [m.strftime("%Y-%m") for m in f.months]},
        "yAxis": {"type": "value", "name": unit, "scale": True},
        "series": [
            {"name": _("Actual"), "type": "line", "data": r(f.actual)},
            {"name": _("Forecast"), "type": "line", "data": r(f.predicted), "lineStyle": {"type": "dashed"}},
            {"name": _("Back-test"), "type": "line", "data": r(f.backtest), "lineStyle": {"type": "dotted"}},
            {"name": "lower", "type": "line", "stack": "band", "data": r(f.lower), "symbol": "none",
             "lineStyle": {"opacity": 0}, "tooltip": {"show": False}},
            {"name": _("Interval (95%)"), "type": "line", "stack": "band", "data": r(band), "symbol": "none",
             "lineStyle": {"opacity": 0}, "areaStyle": {"opacity": 0.2}},
        ],
    }


class ForecastView(BaseView):
    """销售趋势预测: monthly revenue or new subscriptions per plan type, 6 months ahead."""

    route_base = "/analytics/forecast"
    default_view = "index"
    method_permission_name = {"index": "list"}

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        from app.services.care import business_date

        measure = "subscriptions" if request.args.get("measure") == "subscriptions" else "revenue"
        unit = _("CNY") if measure == "revenue" else _("New lines")
        results = forecast.by_plan_type(business_date(utcnow()), measure)
        panels = [
            {"key": t, "label": label_of(PLAN_TYPE_CHOICES, t), "f": f, "option": _forecast_option(f, unit),
             "next": [(m, p, lo, hi) for m, p, lo, hi in zip(f.months, f.predicted, f.lower, f.upper, strict=True)
                      if p is not None]}
            for t, f in results.items() if f is not None
        ]
        return self.render_template("crm/analytics_forecast.html", panels=panels, measure=measure,
                                    horizon=forecast.HORIZON, interval_label=_("Interval (95%)"))
