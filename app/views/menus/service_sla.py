"""Views and APIs of the service_sla area, registered with FAB: SLA policies and board, satisfaction
surveys (public answer page + `surveys` API) and the service statistics page."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
    from app.views.service_sla import SlaBoardView, SlaPolicyModelView
    from app.views.service_stats import ServiceStatsView
    from app.views.surveys import SurveyApi, SurveyPublicView

    ab.add_view(SlaBoardView, "SLA board", label=_l("SLA board"), icon="fa-stopwatch", category="Service",
                category_label=_l("Service"), category_icon="fa-headset")
    ab.add_view(SlaPolicyModelView, "SLA policies", label=_l("SLA policies"), icon="fa-hourglass-half",
                category="Service")
    ab.add_view(ServiceStatsView, "Service statistics", label=_l("Service statistics"), icon="fa-chart-line",
                category="Service")
    ab.add_view_no_menu(SurveyPublicView)
    ab.add_api(SurveyApi)
