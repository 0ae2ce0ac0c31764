"""Views and APIs of the exports (issue 6.6) area, registered with FAB.

List exports need no registration: every ServiceModelView inherits its `/export/<fmt>/` route.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
    from app.views.analytics_exports import AnalyticsExportView

    ab.add_view(AnalyticsExportView, "Anonymised export", label=_l("Anonymised export"), icon="fa-user-secret",
                category="Analytics", category_label=_l("Analytics"), category_icon="fa-chart-pie")
