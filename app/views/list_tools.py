"""Saved views and bulk actions on any list page (issue 8.2, 8.4).

`ListToolsMixin` is a base of every `ServiceModelView`.
"""

from __future__ import annotations


class ListToolsMixin:
    """Adds saved views and bulk actions to a ModelView."""
