"""Views and APIs of the dashboards (issue 6.5) area, registered with FAB."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
    from app.views.dashboards import ChurnFactorsView, CustomerAnalysisView, ManagerDashboardView

    ab.add_view(ManagerDashboardView, "Manager dashboard", label=_l("Manager dashboard"), icon="fa-tachometer-alt",
                category="Analytics", category_label=_l("Analytics"), category_icon="fa-chart-pie")
    ab.add_view(CustomerAnalysisView, "Customer analysis", label=_l("Customer analysis"), icon="fa-users",
                category="Analytics")
    ab.add_view(ChurnFactorsView, "Churn factors", label=_l("Churn factors"), icon="fa-user-slash",
                category="Analytics")
    # The care-task list the dashboard's care tiles open (filtered); reached from the tiles only.
    from app.views.care_task_list import CareTaskListView

    ab.add_view_no_menu(CareTaskListView)
