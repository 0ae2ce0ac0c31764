"""Views and APIs of the tickets area (service desk, issue 4), registered with FAB.

Menu "Service" (服务): My queue, New ticket, Tickets (every ticket the user may see), Routing rules.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
    from app.views.tickets import TicketApi, TicketDeskView, TicketModelView, TicketRoutingRuleModelView

    ab.add_view(TicketDeskView, "My queue", label=_l("My queue"), icon="fa-inbox", category="Service",
                category_label=_l("Service"), category_icon="fa-headset")
    ab.add_link("New ticket", href="/tickets/new", label=_l("New ticket"), icon="fa-plus-circle",
                category="Service")
    ab.add_view(TicketModelView, "Tickets", label=_l("Tickets"), icon="fa-ticket-alt", category="Service")
    ab.add_view(TicketRoutingRuleModelView, "Routing rules", label=_l("Routing rules"), icon="fa-random",
                category="Service")
    ab.add_api(TicketApi)
