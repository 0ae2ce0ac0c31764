"""The data behind the analytics charts as tables (issue 6.6): what the segments and forecast pages draw.

Each function returns (sheet name, header, rows) with the same numbers the page's chart is built
from (the same service calls), so a downloaded table always matches the picture.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _

from app.labels import PLAN_TYPE_CHOICES, SEGMENT_CHOICES, label_of
from app.models.customer import SEGMENTS
from app.services import forecast, segments
from app.services.errors import Invalid

Table = tuple[str, list[str], list[list[Any]]]
SEGMENT_CHARTS = ("distribution", "trend", "movement")


def segments_distribution() -> Table:
    current = segments.distribution()
    total = sum(v["customers"] for v in current.values())
    rows = [[s, label_of(SEGMENT_CHOICES, s), current[s]["customers"],
             round(100.0 * current[s]["customers"] / total, 2) if total else None, current[s]["at_risk"]]
            for s in SEGMENTS]
    return "segments", [_("Segment code"), _("Segment"), _("Customers"), _("Share (%)"), _("At risk")], rows


def segments_trend(limit: int = 12) -> Table:
    months = list(reversed(segments.snapshot_months(limit)))
    by_month = segments.monthly_distribution(months)
    header = [_("Month"), *[label_of(SEGMENT_CHOICES, s) for s in SEGMENTS]]
    rows = [[m.strftime("%Y-%m"), *[counts[s] for s in SEGMENTS]] for m, counts in by_month.items()]
    return "segment-trend", header, rows


def segments_movement(month: dt.date | None) -> Table:
    months = segments.snapshot_months(12)
    if month is None:
        month = months[0] if months else None
    elif month not in months:
        raise Invalid({"month": _("No segment snapshot for that month.")})
    moves = segments.movement(month) if month else {}
    header = [_("Last month → this month"), *[label_of(SEGMENT_CHOICES, s) for s in SEGMENTS], _("Total")]
    rows = []
    for a in (*SEGMENTS, None):
        cells = [moves.get((a, b), 0) for b in SEGMENTS]
        rows.append([label_of(SEGMENT_CHOICES, a) if a else _("New this month"), *cells, sum(cells)])
    return "segment-movement", header, rows


def segment_chart(chart: str, month: dt.date | None = None) -> Table:
    if chart == "distribution":
        return segments_distribution()
    if chart == "trend":
        return segments_trend()
    if chart == "movement":
        return segments_movement(month)
    raise Invalid({"chart": _("Unknown chart.")})


def forecast_table(today: dt.date, measure: str) -> Table:
    """Every plan type's series: actual, forecast with its 95% interval, and the back-test."""
    if measure not in ("revenue", "subscriptions"):
        raise Invalid({"measure": _("Measure must be revenue or subscriptions.")})
    header = [_("Plan type"), _("Month"), _("Actual"), _("Forecast"), _("Lower (95%)"), _("Upper (95%)"),
              _("Back-test"), _("Back-test MAPE")]
    rows: list[list[Any]] = []

    def r(values: list[float | None], i: int) -> float | None:
        value = values[i] if i < len(values) else None
        return round(value, 2) if value is not None else None

    for plan_type, f in forecast.by_plan_type(today, measure).items():
        if f is None:
            continue
        label = label_of(PLAN_TYPE_CHOICES, plan_type)
        mape = round(f.backtest_mape, 2) if f.backtest_mape is not None else None
        for i, month in enumerate(f.months):
            rows.append([label, month.strftime("%Y-%m"), r(f.actual, i), r(f.predicted, i), r(f.lower, i),
                         r(f.upper, i), r(f.backtest, i), mape])
    return f"forecast-{measure}", header, rows
