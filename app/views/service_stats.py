"""Service statistics page (ECharts) and the CSV/XLSX export of each chart's figures (audited)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from flask import abort, flash, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.extensions import db
from app.security.current import current_actor
from app.services import exports
from app.services import service_stats as stats
from app.services.errors import Invalid
from app.services.tickets import CHANNEL_CHOICES, TYPE_CHOICES


@dataclass
class Figure:
    title: str
    header: list[str]
    rows: list[tuple]
    option: dict[str, Any]


class Data:
    """The figures of one period, each query run at most once per request."""

    def __init__(self, period: stats.Period) -> None:
        self.p = period

    @cached_property
    def grid(self) -> stats.Grid:
        return stats.ticket_grid(self.p)

    @cached_property
    def resolved(self) -> stats.Resolved:
        return stats.resolved_stats(self.p)

    @cached_property
    def complaints(self) -> stats.Complaints:
        return stats.complaints(self.p)


def _names(choices: list) -> Callable[[str], str]:
    table = {k: str(v) for k, v in choices}
    return lambda key: _("All") if key == "*" else table.get(key, key)


def _stacked(p: stats.Period, rows: list[tuple[str, str, int]], name: Callable[[str], str]) -> dict[str, Any]:
    labels = stats.buckets(p)
    keys = sorted({k for _b, k, _n in rows})
    counts = {(b, k): n for b, k, n in rows}
    return {
        "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
        "grid": {"left": 40, "right": 20, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": labels}, "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"type": "bar", "stack": "total", "name": name(k), "data": [counts.get((b, k), 0) for b in labels]}
                   for k in keys],
    }


def _bars(categories: list[str], series: list[tuple[str, list[Any]]], horizontal: bool = False) -> dict[str, Any]:
    cat = {"type": "category", "data": categories}
    val = {"type": "value"}
    return {
        "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
        "grid": {"left": 90 if horizontal else 40, "right": 20, "top": 40, "bottom": 30},
        "xAxis": val if horizontal else cat, "yAxis": cat if horizontal else val,
        "series": [{"type": "bar", "name": n, "data": d} for n, d in series],
    }


def _volume(d: Data, by: str) -> Figure:
    p = d.p
    rows = stats.volume(p, by, d.grid)
    name = _names(CHANNEL_CHOICES if by == "channel" else TYPE_CHOICES)
    title = _("Tickets by channel") if by == "channel" else _("Tickets by type")
    return Figure(title, [_("Period"), _("Channel") if by == "channel" else _("Type"), _("Tickets")],
                  [(b, name(k), n) for b, k, n in rows], _stacked(p, rows, name))


def _complaints(d: Data, by: str) -> Figure:
    rows = stats.complaint_rate(d.p, by, d.complaints)[:20]
    title = _("Complaints per 1,000 customers by plan") if by == "plan" else _(
        "Complaints per 1,000 customers by city")
    option = _bars([r[0] for r in rows][::-1], [(_("Per 1,000 customers"), [r[3] for r in rows][::-1])],
                   horizontal=True)
    return Figure(title, [_("Plan") if by == "plan" else _("City"), _("Complaints"), _("Customers"),
                          _("Per 1,000 customers")], rows, option)


def _handling(d: Data) -> Figure:
    rows = stats.handling_time(d.p, d.resolved)
    name = _names(TYPE_CHOICES)
    option = _bars([name(r[0]) for r in rows], [(_("Average (hours)"), [r[2] for r in rows]),
                                                (_("90th percentile (hours)"), [r[3] for r in rows])])
    return Figure(_("Handling time, created to resolved"),
                  [_("Type"), _("Resolved"), _("Average (hours)"), _("90th percentile (hours)")],
                  [(name(k), n, a, q) for k, n, a, q in rows], option)


def _rates(rows: list[tuple[str, int, int, float]], title: str, header: list[str], series: str) -> Figure:
    name = _names(TYPE_CHOICES)
    option = _bars([name(r[0]) for r in rows], [(series, [r[3] for r in rows])])
    option["yAxis"] = {"type": "value", "max": 100, "axisLabel": {"formatter": "{value}%"}}
    return Figure(title, header, [(name(k), n, m, r) for k, n, m, r in rows], option)


def _fcr(d: Data) -> Figure:
    return _rates(stats.first_contact(d.p, d.resolved), _("First-contact resolution"),
                  [_("Type"), _("Resolved"), _("Resolved at first contact"), _("Rate %")], _("Rate %"))


def _breaches(d: Data) -> Figure:
    return _rates(stats.sla_breaches(d.p), _("SLA breach rate"),
                  [_("Type"), _("Tickets"), _("Breached"), _("Breach rate %")], _("Breach rate %"))


def _transfers(d: Data) -> Figure:
    rows = stats.transfers(d.p)
    routes = [f"{a} → {b}" for a, b, _n in rows]
    option = _bars(routes[::-1], [(_("Transfers"), [n for _a, _b, n in rows][::-1])], horizontal=True)
    return Figure(_("Transfers between departments"), [_("From"), _("To"), _("Transfers")], rows, option)


def _csat(d: Data) -> Figure:
    rows = stats.csat(d.p)
    option = {
        "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
        "grid": {"left": 40, "right": 40, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": [r[0] for r in rows]},
        "yAxis": [{"type": "value", "min": 0, "max": 5, "name": _("Average score")},
                  {"type": "value", "min": 0, "max": 100, "name": _("CSAT %")}],
        "series": [{"type": "line", "name": _("Average score"), "data": [r[2] for r in rows]},
                   {"type": "bar", "name": _("CSAT %"), "yAxisIndex": 1, "data": [r[3] for r in rows]}],
    }
    return Figure(_("Customer satisfaction (CSAT)"),
                  [_("Period"), _("Answers"), _("Average score"), _("CSAT %")], rows, option)


CHARTS: dict[str, Callable[[Data], Figure]] = {
    "volume_channel": lambda p: _volume(p, "channel"),
    "volume_type": lambda p: _volume(p, "type"),
    "complaints_plan": lambda p: _complaints(p, "plan"),
    "complaints_city": lambda p: _complaints(p, "city"),
    "handling_time": _handling,
    "first_contact": _fcr,
    "transfers": _transfers,
    "sla_breaches": _breaches,
    "csat": _csat,
}


class ServiceStatsView(BaseView):
    """Managers: service desk figures for a period, each chart exportable as CSV or XLSX."""

    route_base = "/service-stats"
    default_view = "index"
    method_permission_name = {"index": "list", "export": "list"}

    def _period(self) -> tuple[stats.Period, dict[str, list[str]]]:
        try:
            return stats.period(request.args.get("start"), request.args.get("end")), {}
        except Invalid as exc:
            return stats.period(), exc.errors

    @expose("/")
    @has_access
    def index(self):  # noqa: ANN201
        p, errors = self._period()
        for messages in errors.values():
            for message in messages:
                flash(message, "danger")
        data = Data(p)
        figures = {key: build(data) for key, build in CHARTS.items()}
        total, moved = stats.transferred_share(p, data.grid)
        return self.render_template("crm/service_stats.html", period=p, figures=figures,
                                    tickets=total, transferred=moved, errors=errors)

    @expose("/export/<chart>")
    @has_access
    def export(self, chart: str):  # noqa: ANN201
        build = CHARTS.get(chart)
        if build is None:
            abort(404)
        try:
            fmt = exports.check_format(request.args.get("format"))
            p = stats.period(request.args.get("start"), request.args.get("end"))
        except Invalid as exc:
            db.session.rollback()
            return {"message": exc.errors}, 400
        figure = build(Data(p))
        stats.record_export(current_actor(), chart, fmt, len(figure.rows), p)
        return exports.export_response(fmt, f"service-{chart}-{p.start}-{p.end}", figure.header, figure.rows,
                                       sheet=chart)
