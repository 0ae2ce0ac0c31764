"""Views and APIs of the sales area, registered with FAB."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
    from app.views.sales import (
        ContactLogApi,
        ContactLogModelView,
        LeadApi,
        LeadModelView,
        OpportunityApi,
        OpportunityModelView,
        PlaybookActionModelView,
        SalesOrderApi,
        SalesOrderModelView,
    )
    from app.views.sales_board import SalesBoardView, SalesDashboardView

    ab.add_view(LeadModelView, "Leads", label=_l("Leads"), icon="fa-filter",
                category="Sales", category_label=_l("Sales"), category_icon="fa-handshake")
    ab.add_view(OpportunityModelView, "Opportunities", label=_l("Opportunities"), icon="fa-bullseye",
                category="Sales")
    ab.add_link("Import leads", href="/leads/import", label=_l("Import leads"), icon="fa-file-import",
                category="Sales")
    ab.add_view(SalesBoardView, "Pipeline board", label=_l("Pipeline board"), icon="fa-columns", category="Sales")
    ab.add_view(ContactLogModelView, "Contact logs", label=_l("Contact logs"), icon="fa-phone", category="Sales")
    ab.add_view(SalesOrderModelView, "Orders", label=_l("Orders"), icon="fa-file-signature", category="Sales")
    ab.add_view(SalesDashboardView, "Sales dashboard", label=_l("Sales dashboard"), icon="fa-chart-line",
                category="Sales")
    ab.add_view(PlaybookActionModelView, "Stage playbook", label=_l("Stage playbook"), icon="fa-list-ol",
                category="Sales")
    for api in (LeadApi, OpportunityApi, ContactLogApi, SalesOrderApi):
        ab.add_api(api)
