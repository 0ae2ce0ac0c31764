"""Views and APIs of the analytics area, registered with FAB."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
    from app.views.analytics import ChurnRiskView, ForecastView, SegmentsView

    ab.add_view(SegmentsView, "Value segments", label=_l("Value segments"), icon="fa-layer-group",
                category="Analytics", category_label=_l("Analytics"), category_icon="fa-chart-pie")
    ab.add_view(ChurnRiskView, "Churn risk", label=_l("Churn risk"), icon="fa-user-minus", category="Analytics")
    ab.add_view(ForecastView, "Sales forecast", label=_l("Sales forecast"), icon="fa-chart-line", category="Analytics")
