"""Export of any list page with its current filters and the caller's row rules (issue 6.6).

`ExportableListMixin` is a base of every `ServiceModelView`.
"""

from __future__ import annotations


class ExportableListMixin:
    """Adds the list's CSV/XLSX export to a ModelView."""
