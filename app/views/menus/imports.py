"""Views and APIs of the imports (issue 8.1) area, registered with FAB."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
    from app.views.imports import CustomerImportView, LeadImportView, PlanImportView

    ab.add_view(CustomerImportView, "Import customers", label=_l("Import"), icon="fa-file-import",
                category="Customer")
    ab.add_view(PlanImportView, "Import plans", label=_l("Import plans"), icon="fa-file-import", category="Business")
    # The sales menu already links its lead import page; this engine's lead import (with update in
    # place) is reached from there and from /imports/leads/.
    ab.add_view_no_menu(LeadImportView)
