"""The contract's roles and what each may do, as one table that `crm init` applies.

Levels per resource: "r" read, "rw" read and write (no delete), "rwd" everything. Row rules
(which customers a role sees) live in `app/security/access.py`; this table decides actions.
Admin is FAB's admin role and receives every permission.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("Admin", "Manager", "Sales", "Agent", "Clerk")


@dataclass(frozen=True)
class Resource:
    view: str | None  # FAB ModelView class name (page permissions)
    api: str | None  # FAB ModelRestApi class name
    menu: str | None  # menu item name


RESOURCES: dict[str, Resource] = {
    "customers": Resource("CustomerModelView", "CustomerApi", "Customers"),
    "plans": Resource("PlanModelView", "PlanApi", "Plans"),
    "value_added_services": Resource("ValueAddedServiceModelView", "ValueAddedServiceApi", "Value-added services"),
    "subscriptions": Resource("SubscriptionModelView", "SubscriptionApi", "Subscriptions"),
    "subscription_vas": Resource("SubscriptionVasModelView", None, None),
    "usage_records": Resource("UsageRecordModelView", "UsageRecordApi", "Monthly usage"),
    "bills": Resource("BillModelView", "BillApi", "Bills"),
    "bill_lines": Resource("BillLineModelView", None, None),
    "payments": Resource("PaymentModelView", "PaymentApi", "Payments"),
    "business_changes": Resource("BusinessChangeModelView", "BusinessChangeApi", "Business changes"),
    "audit_logs": Resource("AuditLogModelView", "AuditLogApi", "Audit log"),
    # Care (关怀): the agenda page is a BaseView; rows are scoped by access.scope_care_tasks.
    "care_tasks": Resource("CareAgendaView", "CareTaskApi", "My follow-ups"),
    "care_team": Resource("CareTeamView", None, "Team follow-ups"),
    "care_rules": Resource("CareRuleModelView", "CareRuleApi", "Care rules"),
}

MENU_CATEGORIES = {
    "customers": "Customer",
    "plans": "Business",
    "value_added_services": "Business",
    "subscriptions": "Business",
    "usage_records": "Billing",
    "bills": "Billing",
    "payments": "Billing",
    "business_changes": "Business",
    "audit_logs": "System",
    "care_tasks": "Care",
    "care_team": "Care",
    "care_rules": "Care",
}

MATRIX: dict[str, dict[str, str]] = {
    "Manager": {
        "customers": "rwd", "plans": "rwd", "value_added_services": "rwd", "subscriptions": "rw",
        "subscription_vas": "rwd",
        "usage_records": "r", "bills": "r", "bill_lines": "r", "payments": "rw", "business_changes": "r",
        "audit_logs": "r",
        "care_tasks": "rw", "care_team": "rw", "care_rules": "rwd",
    },
    "Sales": {
        "customers": "rw", "plans": "r", "value_added_services": "r", "subscriptions": "r",
        "subscription_vas": "r", "usage_records": "r", "bills": "r", "bill_lines": "r", "payments": "r",
        "business_changes": "r", "care_tasks": "rw",
    },
    "Agent": {
        "customers": "r", "plans": "r", "value_added_services": "r", "subscriptions": "r",
        "subscription_vas": "r", "usage_records": "r", "bills": "r", "bill_lines": "r", "payments": "r",
        "business_changes": "r", "care_tasks": "rw",
    },
    "Clerk": {
        "customers": "rw", "plans": "r", "value_added_services": "r", "subscriptions": "rw",
        "subscription_vas": "rwd",
        "usage_records": "r", "bills": "r", "bill_lines": "r", "payments": "rw", "business_changes": "r",
        "care_tasks": "rw",
    },
}
# Roles that may reveal full personal data, one audited record at a time (grantable by an admin).
REVEAL_ROLES = ("Manager", "Clerk")

# `can_change`: state changes a service performs on a record (change plan, suspend, resume).
# A view or API only receives the permissions it actually offers (see `sync_roles`).
VIEW_PERMS = {
    "r": ("can_list", "can_show"),
    "rw": ("can_list", "can_show", "can_add", "can_edit", "can_change"),
    "rwd": ("can_list", "can_show", "can_add", "can_edit", "can_change", "can_delete"),
}
API_PERMS = {
    "r": ("can_get", "can_info"),
    "rw": ("can_get", "can_info", "can_post", "can_put", "can_change"),
    "rwd": ("can_get", "can_info", "can_post", "can_put", "can_change", "can_delete"),
}
# What every signed-in role needs: its own profile and password, the 360 page, the menus.
COMMON = [
    ("can_show", "Customer360"),
    ("can_userinfo", "UserDBModelView"),
    ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"),
    ("resetmypassword", "UserDBModelView"),
    ("can_get", "OpenApi"),  # the API description at /api/v1/_openapi (contract)
]


def permissions_for(role: str) -> list[tuple[str, str]]:
    """(permission, view_menu) pairs a role holds, derived from MATRIX."""
    pairs = list(COMMON)
    categories = set()
    for name, level in MATRIX.get(role, {}).items():
        res = RESOURCES[name]
        if res.view:
            pairs += [(p, res.view) for p in VIEW_PERMS[level]]
        if res.api:
            pairs += [(p, res.api) for p in API_PERMS[level]]
        if res.menu:
            pairs.append(("menu_access", res.menu))
            categories.add(MENU_CATEGORIES[name])
    pairs += [("menu_access", c) for c in sorted(categories)]
    if role in REVEAL_ROLES:
        pairs.append(("can_reveal", "Customer360"))
    return pairs


def offered_permissions(appbuilder) -> dict[str, set[str]]:  # noqa: ANN001
    """What each registered view/API offers: {view_menu name: {permission names}}."""
    offered: dict[str, set[str]] = {}
    for view in appbuilder.baseviews:
        offered.setdefault(view.class_permission_name, set()).update(view.base_permissions or [])
    return offered


def sync_roles(sm) -> None:  # noqa: ANN001 - FAB security manager
    """Create the roles and set each one's permissions exactly to the table (idempotent)."""
    offered = offered_permissions(sm.appbuilder)
    # Admin last: it receives every permission row, including any created for the other roles.
    for role_name in (*ROLES[1:], ROLES[0]):
        role = sm.find_role(role_name) or sm.add_role(role_name)
        if role_name == "Admin":
            # Everything, including what FAB itself registers (users, roles, permissions).
            role.permissions = sm.session.query(sm.permissionview_model).all()
            continue
        wanted = []
        for perm, view in permissions_for(role_name):
            if perm != "menu_access" and view in offered and perm not in offered[view]:
                continue  # e.g. no can_delete on a view without a delete service
            pv = sm.find_permission_view_menu(perm, view) or sm.add_permission_view_menu(perm, view)
            if pv is not None:
                wanted.append(pv)
        role.permissions = wanted
    sm.session.commit()
