"""Views and APIs of the customer merge (issue 8.5) area, registered with FAB."""

from __future__ import annotations

from typing import Any


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
    from flask import current_app

    from app.views.customer_merge import CustomerMergeView, api_alias_redirect

    # No menu entry: a merge starts from a customer's 360 page ("Merge…").
    ab.add_view_no_menu(CustomerMergeView)
    current_app.after_request(api_alias_redirect)
