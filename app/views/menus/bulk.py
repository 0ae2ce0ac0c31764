"""Views and APIs of the bulk actions and saved views (issue 8.2, 8.4) area, registered with FAB.

The routes themselves are on every list (`app/views/list_tools.py`, a base of `ServiceModelView`);
here the list and home templates get their helpers.
"""

from __future__ import annotations

from typing import Any


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
    from flask import current_app

    from app.views.list_tools_context import list_tools, pinned_views

    current_app.jinja_env.globals.update(crm_list_tools=list_tools, crm_pinned_views=pinned_views)
