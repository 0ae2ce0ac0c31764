"""List filters that reproduce the manager dashboard's populations (issue 6.5), so each KPI tile links
to a list holding exactly the rows it counts (`app.services.kpi_refresh` defines the figures).

They are FAB filters on extra search columns (`churn_risk` on customers, `sla_breached` on tickets)
or an extra operator (`completed_at` on or after, for care tasks), reached like any other filter
with `_flt_<index>_<column>=<value>` — so the list's search form, saved views and exports (same
filters) all follow. An unreadable value matches nothing rather than failing the page.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import SQLAFilterConverter
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select
from wtforms import SelectField

from app.models.analytics import ChurnScore
from app.models.customer import Customer
from app.models.sla import TicketSla
from app.models.ticket import Ticket
from app.services.kpi_refresh import RISK_BANDS
from app.views.datamodel import CrmSQLAInterface


def risk_band_condition(band: int) -> list[Any]:
    """`lo ≤ score < hi` of `RISK_BANDS[band]`, as `kpi_refresh._band_case` assigns bands (first band
    without lower bound, last without upper bound): range conditions, so `ix_churn_score_score` serves."""
    lo, hi = RISK_BANDS[band]
    cond = [] if band == 0 else [ChurnScore.score >= lo]
    if hi is not None and band < len(RISK_BANDS) - 1:
        cond.append(ChurnScore.score < hi)
    return cond


class ChurnBandFilter(BaseFilter):
    """Customers whose current churn score falls in a band of the dashboard's risk chart."""

    name = _l("Churn risk band is")
    arg_name = "churn_band"

    def apply(self, query: Any, value: Any) -> Any:
        try:
            band = int(value)
            cond = risk_band_condition(band) if 0 <= band < len(RISK_BANDS) else None
        except (TypeError, ValueError):
            cond = None
        if cond is None:
            return query.filter(false())
        return query.filter(Customer.id.in_(select(ChurnScore.customer_id).where(*cond)))


def sla_breached_condition() -> Any:
    """An SLA clock still running with a response or resolution breach (the tile's definition)."""
    return (TicketSla.stopped_at.is_(None)
            & or_(TicketSla.response_breached_at.is_not(None), TicketSla.resolve_breached_at.is_not(None)))


class SlaBreachedFilter(BaseFilter):
    """Tickets whose running SLA clock is breached (`1`), or not (`0`)."""

    name = _l("SLA breached (clock running)")
    arg_name = "sla_breached"

    def apply(self, query: Any, value: Any) -> Any:
        breached = Ticket.id.in_(select(TicketSla.ticket_id).where(sla_breached_condition()))
        if str(value) == "1":
            return query.filter(breached)
        if str(value) == "0":
            return query.filter(~breached)
        return query.filter(false())


class OnOrAfterFilter(BaseFilter):
    """`column >= value` (FAB's own "greater than" is strict): "completed this month" includes midnight."""

    name = _l("On or after")
    arg_name = "ge"

    def apply(self, query: Any, value: Any) -> Any:
        try:
            when = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            return query.filter(false())
        return query.filter(getattr(self.model, self.column_name) >= when)


class _KpiFilterConverter(SQLAFilterConverter):
    def convert(self, col_name: str) -> list[BaseFilter]:
        if col_name == "churn_risk" and self.datamodel.obj is Customer:
            return [ChurnBandFilter(col_name, self.datamodel)]
        if col_name == "sla_breached" and self.datamodel.obj is Ticket:
            return [SlaBreachedFilter(col_name, self.datamodel)]
        filters = super().convert(col_name)
        if filters and self.datamodel.is_datetime(col_name):
            # Appended: FAB's own operators keep their positions (saved views and links use them).
            return [*filters, OnOrAfterFilter(col_name, self.datamodel)]
        return filters


class KpiListInterface(CrmSQLAInterface):
    """`CrmSQLAInterface` with the dashboard's filters (the customer, ticket and care-task lists)."""

    filter_converter_class = _KpiFilterConverter

    def get_filters(self, search_columns: Any = None, search_filters: Any = None) -> Any:
        filters = super().get_filters(search_columns, search_filters)
        # FAB takes `_flt_` filters from the filters of the model's columns only; the virtual
        # search columns (`churn_risk`, `sla_breached`) join them so the URL filter applies.
        for col, flts in filters.get_search_filters().items():
            filters._all_filters.setdefault(col, flts)  # noqa: SLF001 - FAB keeps no public setter
        return filters


@lru_cache(maxsize=32)
def filter_index(model: type, column: str, arg_name: str) -> int:
    """The `<index>` of `_flt_<index>_<column>` for the operator `arg_name` on `model`'s list."""
    for i, flt in enumerate(_KpiFilterConverter(KpiListInterface(model)).convert(column)):
        if flt.arg_name == arg_name:
            return i
    raise KeyError(f"{model.__name__}.{column}: no {arg_name} filter")


def churn_band_field() -> SelectField:
    """The search form's value field for `churn_risk` (the bands of the dashboard's risk chart)."""
    from app.services.dashboards import risk_label

    bands = [(str(i), risk_label(lo, hi)) for i, (lo, hi) in enumerate(RISK_BANDS)]
    return SelectField(_l("Churn risk"), choices=bands)


def yes_no_field(label: Any) -> SelectField:
    return SelectField(label, choices=[("1", _l("Yes")), ("0", _l("No"))])
