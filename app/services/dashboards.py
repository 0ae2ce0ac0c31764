"""Manager dashboards (issue 6.5): reading the newest KPI snapshot and shaping it into tables and charts.

Pages never aggregate live data (see `app.services.kpi_refresh`): they read one `KpiSnapshot` row.
Each chart is backed by one table (header + rows) — the same rows feed the chart, the table on
the page and the CSV/XLSX export, so what a manager downloads is exactly what they saw.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.labels import PLAN_TYPE_CHOICES, SEGMENT_CHOICES, label_of
from app.models.customer import SEGMENTS
from app.models.kpi import KPI_KINDS, KpiSnapshot
from app.services import audit, kpi_refresh
from app.services.actor import SYSTEM, Actor
from app.services.errors import NotFound

Table = tuple[list[str], list[list[Any]]]

FEATURE_LABELS = {
    "tenure_months": _l("Tenure"),
    "monthly_fee": _l("Monthly fee"),
    "data_gb_avg": _l("Data use"),
    "data_trend": _l("Data use trend"),
    "voice_trend": _l("Voice use trend"),
    "arrears_amount": _l("Arrears"),
    "overdue_bills": _l("Overdue bills"),
    "days_to_expiry": _l("Days to contract end"),
    "vas_count": _l("Value-added services"),
    "failed_contacts": _l("Unsuccessful care contacts"),
    "tickets_90d": _l("Service tickets (90 days)"),
    "complaints_90d": _l("Complaints (90 days)"),
    "transfers_90d": _l("Ticket transfers (90 days)"),
    "plan_type": _l("Plan type"),
    "contract": _l("Contract"),
    "payment_method": _l("Payment method"),
}

# The charts of each page, in display order: key → title.
CHARTS: dict[str, dict[str, Any]] = {
    "manager": {
        "kpis": _l("Key figures"),
        "revenue": _l("Revenue this month vs last"),
        "aging": _l("Arrears by age"),
        "risk": _l("Churn risk distribution"),
    },
    "customers": {
        "segments": _l("Value segments"),
        "plan_types": _l("Plan types"),
        "plans": _l("Plan mix"),
        "cities": _l("Customers by city"),
        "tenure": _l("Tenure"),
    },
    "churn_factors": {
        "importances": _l("Churn factors of the current model"),
        "by_tenure": _l("Churn rate by tenure"),
        "by_plan_type": _l("Churn rate by plan type"),
        "by_complaints": _l("Churn rate by complaints"),
        "by_arrears": _l("Churn rate by arrears"),
    },
}


@dataclass(frozen=True)
class Snapshot:
    kind: str
    as_of: dt.date
    computed_at: dt.datetime
    duration_ms: int
    data: dict[str, Any]


def latest(kind: str) -> Snapshot | None:
    """The newest snapshot of `kind` (one indexed query), or None before the first refresh."""
    row = db.session.execute(
        select(KpiSnapshot).where(KpiSnapshot.kind == kind)
        .order_by(KpiSnapshot.computed_at.desc(), KpiSnapshot.id.desc()).limit(1)
    ).scalar()
    if row is None:
        return None
    return Snapshot(kind=row.kind, as_of=row.as_of, computed_at=row.computed_at, duration_ms=row.duration_ms,
                    data=json.loads(row.data or "{}"))


def current(kind: str) -> Snapshot:
    """The newest snapshot, computing the first one on a fresh install (later ones come from the job)."""
    if kind not in KPI_KINDS:
        raise NotFound(kind)
    snap = latest(kind)
    if snap is None:
        kpi_refresh.refresh(SYSTEM, kinds=(kind,))
        snap = latest(kind)
    assert snap is not None
    return snap


# ---- labels ----------------------------------------------------------------------------------

def aging_label(lo: int, hi: int | None) -> str:
    return _("Over %(n)d days", n=lo - 1) if hi is None else _("%(lo)d–%(hi)d days", lo=lo, hi=hi)


def risk_label(lo: float, hi: float | None) -> str:
    return f"{lo:.1f}–{(hi if hi is not None else 1.0):.1f}"


def tenure_label(lo: int, hi: int | None) -> str:
    if hi is None:
        return _("%(n)d years or more", n=lo // 12)
    if lo == 0:
        return _("Under %(n)d months", n=hi)
    if hi <= 12:
        return _("%(lo)d–%(hi)d months", lo=lo, hi=hi)
    return _("%(lo)d–%(hi)d years", lo=lo // 12, hi=hi // 12)


def complaints_label(i: int) -> str:
    lo, hi = kpi_refresh.COMPLAINT_BANDS[i]
    if lo == 0:
        return _("None")
    return _("%(n)d or more", n=lo) if hi is None else str(lo)


def arrears_label(i: int) -> str:
    lo, hi = kpi_refresh.ARREARS_BANDS[i]
    if i == 0:
        return _("No arrears")
    if hi is None:
        return _("Over ¥%(n)d", n=lo)
    return _("Up to ¥%(n)d", n=hi) if lo == 0 else f"¥{lo}–{hi}"


def feature_label(feature: str) -> str:
    return str(FEATURE_LABELS.get(feature, feature))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


# ---- tables (one per chart) ------------------------------------------------------------------

def _manager_tables(d: dict[str, Any]) -> dict[str, Table]:
    kpis = [
        [_("Active customers"), d["active_customers"]],
        [_("ARPU (this month)"), d["arpu"]],
        [_("Revenue this month"), d["revenue_this_month"]],
        [_("Revenue last month"), d["revenue_last_month"]],
        [_("Arrears total"), d["arrears_total"]],
        [_("Customers in arrears"), d["arrears_customers"]],
        [_("Open tickets"), d["open_tickets"]],
        [_("SLA breaches (open tickets)"), d["sla_breached"]],
        [_("Care tasks done this month"), d["care_done_month"]],
        [_("Care tasks overdue"), d["care_overdue"]],
    ]
    return {
        "kpis": ([_("Figure"), _("Value")], kpis),
        "revenue": ([_("Month"), _("Revenue")], [[d["last_month"][:7], d["revenue_last_month"]],
                                                  [d["month"][:7], d["revenue_this_month"]]]),
        "aging": ([_("Days past due"), _("Amount"), _("Bills"), _("Customers")],
                  [[aging_label(a["from"], a["to"]), a["amount"], a["bills"], a["customers"]] for a in d["aging"]]),
        "risk": ([_("Churn risk"), _("Customers")],
                 [[risk_label(r["from"], r["to"]), r["customers"]] for r in d["risk"]]),
    }


def _customer_tables(d: dict[str, Any]) -> dict[str, Table]:
    segs = d["segments"]
    keys = [*SEGMENTS, *sorted(k for k in segs if k not in SEGMENTS)]
    return {
        "segments": ([_("Segment"), _("Customers")],
                     [[label_of(SEGMENT_CHOICES, s), segs.get(s, 0)] for s in keys]),
        "plan_types": ([_("Plan type"), _("Customers")],
                       [[label_of(PLAN_TYPE_CHOICES, t) if t else _("No plan"), n]
                        for t, n in sorted(d["plan_types"].items(), key=lambda kv: -kv[1])]),
        "plans": ([_("Plan"), _("Plan type"), _("Customers")],
                  [[p["name"] or (_("Other plans") if p["plan_type"] == "other" else _("No plan")),
                    label_of(PLAN_TYPE_CHOICES, p["plan_type"]) if p["plan_type"] not in (None, "other") else "",
                    p["customers"]] for p in d["plans"]]),
        "cities": ([_("City"), _("Customers")],
                   [[(_("Other cities") if c.get("other") else (c["city"] or _("Unknown"))), c["customers"]]
                    for c in d["cities"]]),
        "tenure": ([_("Tenure"), _("Customers")],
                   [[tenure_label(t["from"], t["to"]), t["customers"]] for t in d["tenure"]]),
    }


def _rate_rows(items: list[dict[str, Any]], label: Any) -> list[list[Any]]:
    return [[label(i["key"]), i["customers"], i["churned"], _pct(i["rate"])] for i in items]


def _factor_tables(d: dict[str, Any]) -> dict[str, Table]:
    rate_header = [_("Customers"), _("Churned"), _("Churn rate")]
    return {
        "importances": ([_("Factor"), _("Customers with it among the top 3 reasons"), _("Share")],
                        [[feature_label(i["feature"]), i["customers"], _pct(i["share"])] for i in d["importances"]]),
        "by_tenure": ([_("Tenure"), *rate_header],
                      _rate_rows(d["by_tenure"], lambda k: tenure_label(*kpi_refresh.TENURE_BANDS[k]))),
        "by_plan_type": ([_("Plan type"), *rate_header],
                         _rate_rows(d["by_plan_type"],
                                    lambda k: _("No plan") if k in (None, "none") else label_of(PLAN_TYPE_CHOICES, k))),
        "by_complaints": ([_("Complaints"), *rate_header], _rate_rows(d["by_complaints"], complaints_label)),
        "by_arrears": ([_("Arrears"), *rate_header], _rate_rows(d["by_arrears"], arrears_label)),
    }


TABLES = {"manager": _manager_tables, "customers": _customer_tables, "churn_factors": _factor_tables}


def tables(snap: Snapshot) -> dict[str, Table]:
    return TABLES[snap.kind](snap.data)


def table(kind: str, chart: str) -> Table:
    """The table behind one chart of a page; NotFound for an unknown page or chart."""
    if kind not in CHARTS or chart not in CHARTS[kind]:
        raise NotFound(chart)
    return tables(current(kind))[chart]


# ---- charts ----------------------------------------------------------------------------------

def bar_option(header: list[str], rows: list[list[Any]], value_col: int = 1, horizontal: bool = False,
               percent: bool = False) -> dict[str, Any]:
    """An ECharts bar chart of one column of a table (category = first column)."""
    cats = [str(r[0]) for r in rows]
    values = []
    for r in rows:
        v = r[value_col]
        if percent:
            v = None if v in (None, "—") else float(str(v).rstrip("%"))
        values.append(v)
    cat_axis = {"type": "category", "data": cats, "axisLabel": {"interval": 0}}
    val_axis = {"type": "value", "name": header[value_col] + (" (%)" if percent else "")}
    if not percent:
        val_axis["minInterval"] = 1
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"containLabel": True, "left": 8, "right": 24},
        "xAxis": val_axis if horizontal else cat_axis,
        "yAxis": ({**cat_axis, "inverse": True} if horizontal else val_axis),
        "series": [{"name": header[value_col], "type": "bar", "data": values}],
    }


def chart_options(snap: Snapshot) -> dict[str, dict[str, Any]]:
    t = tables(snap)
    if snap.kind == "manager":
        return {"revenue": bar_option(*t["revenue"]), "aging": bar_option(*t["aging"]),
                "risk": bar_option(*t["risk"])}
    if snap.kind == "customers":
        return {"segments": bar_option(*t["segments"]), "plan_types": bar_option(*t["plan_types"]),
                "plans": bar_option(*t["plans"], value_col=2, horizontal=True),
                "cities": bar_option(*t["cities"], horizontal=True), "tenure": bar_option(*t["tenure"])}
    options = {k: bar_option(*t[k], value_col=3, percent=True)
               for k in ("by_tenure", "by_plan_type", "by_complaints", "by_arrears")}
    options["importances"] = bar_option(*t["importances"], horizontal=True)
    return options


# ---- exports ---------------------------------------------------------------------------------

def record_export(actor: Actor, kind: str, chart: str, fmt: str, rows: int) -> None:
    """Audit a chart download (who, which chart, how many rows) before the file is streamed."""
    audit.record(actor, "export", "dashboard_chart", None,
                 {"page": kind, "chart": chart, "format": fmt, "rows": rows})
    db.session.commit()
