"""Export of any list page with its current filters and the caller's row rules (issue 6.6).

`ExportableListMixin` is a base of every `ServiceModelView`. `GET <list route>/export/csv/` (or
`/xlsx/`) takes the same query arguments as the list page — FAB's filters `_flt_<n>_<col>` and
order `_oc_<view>`/`_od_<view>` — and exports every matching row (not one page), in the list's
order, through `services.list_export` (masking, streaming, audit). The permission is FAB's
`can_export` on the view (granted per role in `app/security/roles.py`); without it the list
shows no export buttons and the route answers 403.
"""

from __future__ import annotations

from typing import Any

from flask import request, stream_with_context, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.urltools import get_filter_args, get_order_args
from flask_babel import gettext as _

from app.models.base import utcnow
from app.models.customer import Customer
from app.security.current import current_actor
from app.services import exports, list_export
from app.services.errors import Invalid

EXPORT_PERMISSION = "can_export"


class ExportableListMixin:
    """Adds the list's CSV/XLSX export to a ModelView."""

    # Columns exported; None = the list's own columns (customers: the contract's field names).
    export_columns: list[str] | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # A view that lists its permissions explicitly (read-only pages) still offers the export.
        perms = self.base_permissions
        if perms is not None and "can_list" in perms and EXPORT_PERMISSION not in perms:
            self.base_permissions = [*perms, EXPORT_PERMISSION]

    # -- the list page's buttons ------------------------------------------------------------
    def _may_export(self) -> bool:
        return bool(self.appbuilder.sm.has_access(EXPORT_PERMISSION, self.class_permission_name))

    def _export_links(self) -> dict[str, str] | None:
        if not self._may_export():
            return None
        query = request.query_string.decode("latin-1")
        suffix = f"?{query}" if query else ""
        return {fmt: url_for(f"{self.endpoint}.export", fmt=fmt) + suffix for fmt in exports.FORMATS}

    def render_template(self, template: str, **kwargs: Any) -> Any:
        if template == getattr(self, "list_template", None):
            kwargs.setdefault("crm_export", self._export_links())
        return super().render_template(template, **kwargs)

    # -- the export itself ------------------------------------------------------------------
    def _export_name(self) -> str:
        """The list's name in the audit log and the file name: the route without slashes."""
        return (self.route_base or self.__class__.__name__).strip("/").replace("/", "-") or "list"

    def _export_query(self) -> tuple[Any, dict[str, Any]]:
        """The list page's query without its page: request filters + row rules + order."""
        get_filter_args(self._filters)  # as FAB's list: only the view's search columns count
        order = get_order_args().get(self.__class__.__name__)
        if order and order[0] in (self.order_columns or []):
            order_column, order_direction = order
        elif self.base_order:
            order_column, order_direction = self.base_order
        else:
            order_column, order_direction = "", ""
        joined = self._filters.get_joined_filters(self._base_filters)
        datamodel = self.datamodel
        query = datamodel._apply_inner_all(
            datamodel.session.query(datamodel.obj), joined, order_column, order_direction,
            select_columns=None, aliases_mapping={},
        )
        applied = [
            {"column": flt.column_name, "op": flt.arg_name, "value": value}
            for flt, value in zip(self._filters.filters, self._filters.values, strict=False)
        ]
        details = {"filters": applied, "order": f"{order_column} {order_direction}".strip()}
        return query, details

    def _export_layout(self) -> tuple[list[str], Any]:
        """Header and row source for this list."""
        model = self.datamodel.obj
        if model is Customer and self.export_columns is None:
            return list(list_export.CUSTOMER_FIELDS), list_export.customer_rows
        columns = list(self.export_columns or self.list_columns)
        header = [str(self.label_columns.get(c, c)) for c in columns]
        return header, lambda query: list_export.model_rows(query, model, columns)

    @expose("/export/<fmt>/")
    @has_access
    def export(self, fmt: str) -> Any:
        try:
            fmt = exports.check_format(fmt)
        except Invalid:
            return {"message": {"format": [_("Export format must be csv or xlsx.")]}}, 400
        actor = current_actor()
        query, details = self._export_query()
        name = self._export_name()
        if self.datamodel.obj is Customer and self.export_columns is None:
            # The contract's fields: written by the database itself on PostgreSQL (COPY).
            body = list_export.export_customers(actor, fmt, query, details, list_name=name)
        else:
            header, rows_of = self._export_layout()
            body = list_export.stream(actor, fmt, name, header, rows_of(query), details, sheet=name)
        # stream_with_context: the session and the actor stay available while the file is produced.
        return exports.file_response(fmt, f"{name}-{utcnow():%Y%m%d-%H%M}", stream_with_context(body))

