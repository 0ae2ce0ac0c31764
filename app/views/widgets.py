"""List-page widgets: FAB's, with the parts that are the same on every request built once."""

from __future__ import annotations

from typing import Any

from flask_appbuilder._compat import as_unicode
from flask_appbuilder.widgets import ListWidget, RenderTemplateWidget, SearchWidget
from flask_babel import get_locale

from app.views import page_cache


class CrmListWidget(ListWidget):
    """FAB's list table; each row's buttons rendered once per page (crm/widgets/list.html)."""

    template = "crm/widgets/list.html"


class CrmSearchWidget(SearchWidget):
    """FAB's "Add filter" form. FAB renders every searchable column's input on every list request,
    with a query per drop-down (all plans, all users…), for a JavaScript template that is the same
    for everyone: here it is built once per view, language and generation of the listed tables
    (app/views/page_cache.py). Only the active filters are per request."""

    def __call__(self, **kwargs: Any) -> Any:
        form = self.template_args["form"]
        cols = tuple(self.template_args["include_cols"])
        datamodel = self.filters.datamodel
        related = tuple(datamodel.get_related_model(c) for c in cols if datamodel.is_relation(c))
        # type(form): FAB builds one search form class per view (labels, extra fields are the view's).
        key = ("search-form", type(form), datamodel.obj, cols, str(get_locale()), page_cache.generation(*related))
        kwargs.update(page_cache.get(key, lambda: self._form_parts(form, cols), ttl=page_cache.SEARCH_FORM_TTL))
        kwargs["active_filters"] = self.filters.get_filters_values_tojson()
        return RenderTemplateWidget.__call__(self, **kwargs)

    def _form_parts(self, form: Any, cols: tuple[str, ...]) -> dict[str, Any]:
        search = self.filters.get_search_filters()
        return {
            "label_columns": {c: as_unicode(form[c].label.text) for c in cols},
            "form_fields": {c: form[c]() for c in cols},
            "search_filters": {c: [as_unicode(flt.name) for flt in search[c]] for c in cols},
        }
