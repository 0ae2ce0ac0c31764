"""Every care task the user may see, as a filterable list (read only): where the manager dashboard's
"care tasks done this month" and "care tasks overdue" tiles lead (issue 6.5).

The agenda (`CareAgendaView`) is the place to work on one's own tasks; this list is for looking
across them with FAB's filters (status, due date, completion time, assignee) and exporting them.
Rows follow `access.scope_care_tasks`, as the agenda and the `care_tasks` API do.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.models.care import CareTask
from app.security.access import CARE_TASK_ACCESS_FILTER
from app.timefmt import localtime
from app.views.base import ServiceModelView
from app.views.kpi_filters import KpiListInterface

STATUS_LABELS = {"open": _l("To do"), "done": _l("Done"), "cancelled": _l("Task cancelled")}


def _status(value: Any) -> Any:
    return STATUS_LABELS.get(value, value)


class CareTaskListView(ServiceModelView):
    datamodel = KpiListInterface(CareTask)
    route_base = "/care/tasks"
    base_permissions = ["can_list"]
    base_filters = CARE_TASK_ACCESS_FILTER
    base_order = ("due_date", "asc")
    list_title = _l("Care tasks")
    label_columns = {
        "due_date": _l("Due on"), "status": _l("Status"), "customer": _l("Customer"), "title": _l("Task"),
        "rule": _l("Care rule"), "assignee": _l("Assignee"), "priority": _l("Priority"),
        "outcome": _l("Outcome"), "completed_at": _l("Completed at"),
    }
    list_columns = ["due_date", "status", "customer", "rule", "title", "assignee", "priority", "outcome",
                    "completed_at"]
    order_columns = ["due_date", "completed_at"]
    search_columns = ["status", "due_date", "completed_at", "assignee", "priority"]
    formatters_columns = {"status": _status, "completed_at": localtime}
