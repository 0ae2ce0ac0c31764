"""The audit log: readable by Admin and Manager, editable by nobody (no write permission exists)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.labels import AUDIT_ACTION_CHOICES
from app.models.audit_log import AuditLog
from app.timefmt import localtime
from app.views.base import ServiceModelApi, ServiceModelView
from app.views.datamodel import CrmSQLAInterface

AUDIT_LABELS = {
    "created_at": _l("Time"), "actor_name": _l("User"), "action": _l("Action"), "entity": _l("Record type"),
    "entity_id": _l("Record No."), "changes": _l("Changes"), "ip": _l("IP address"), "hash": _l("Hash"),
    "prev_hash": _l("Previous hash"),
}
AUDIT_COLUMNS = ["created_at", "actor_name", "action", "entity", "entity_id", "changes", "ip"]


class AuditLogModelView(ServiceModelView):
    datamodel = CrmSQLAInterface(AuditLog)
    route_base = "/audit-log"
    base_permissions = ["can_list", "can_show"]
    base_order = ("id", "desc")
    list_title = _l("Audit log")
    show_title = _l("Audit entry")
    label_columns = AUDIT_LABELS
    list_columns = AUDIT_COLUMNS
    show_columns = AUDIT_COLUMNS + ["prev_hash", "hash"]
    search_columns = ["actor_name", "action", "entity", "entity_id", "created_at"]
    formatters_columns = {"action": lambda v: str(dict(AUDIT_ACTION_CHOICES).get(v, v)),
                          "created_at": lambda v: localtime(v, "%Y-%m-%d %H:%M:%S")}


class AuditLogApi(ServiceModelApi):
    resource_name = "audit_logs"
    datamodel = CrmSQLAInterface(AuditLog)
    allow_browser_login = True
    base_order = ("id", "desc")
    list_columns = ["id"] + AUDIT_COLUMNS + ["prev_hash", "hash"]
    show_columns = list_columns
    search_columns = ["actor_name", "action", "entity", "entity_id", "created_at"]
