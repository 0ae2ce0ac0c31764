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
    # Customer merge (issue 8.5): no menu entry, reached from the 360 page; back-office roles only.
    "customer_merge": Resource("CustomerMergeView", None, None),
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
    # Campaigns (营销活动, issue 5.6): managers define, launch and report; no row rule (all customers).
    "campaigns": Resource("CampaignView", "CampaignApi", "Campaigns"),
    # Sales (销售, issue 3): rows scoped by access.scope_sales (Sales own rows, Managers all).
    "leads": Resource("LeadModelView", "LeadApi", "Leads"),
    "opportunities": Resource("OpportunityModelView", "OpportunityApi", "Opportunities"),
    "contact_logs": Resource("ContactLogModelView", "ContactLogApi", "Contact logs"),
    "orders": Resource("SalesOrderModelView", "SalesOrderApi", "Orders"),
    "sales_board": Resource("SalesBoardView", None, "Pipeline board"),
    "sales_dashboard": Resource("SalesDashboardView", None, "Sales dashboard"),
    "sales_playbook": Resource("PlaybookActionModelView", None, "Stage playbook"),
    "lead_import": Resource(None, None, "Import leads"),  # menu link; the page is LeadModelView's (can_change)
    # Imports (issue 8.1): upload → mapping → preview → run pages, one permission per kind.
    "customer_import": Resource("CustomerImport", None, "Import customers"),
    "lead_import_engine": Resource("LeadImport", None, None),
    "plan_import": Resource("PlanImport", None, "Import plans"),
    # Messages (消息, issues 4.6 and 5.4): the outbox and the templates, for managers.
    "outbox": Resource("OutboxView", None, "Outbox"),
    "message_templates": Resource("MessageTemplateModelView", None, "Message templates"),
    "message_preview": Resource("MessagePreviewView", None, None),
    # Knowledge base (知识库, issue 4.8): drafts/archived rows for writers only (access.scope_kb_articles).
    "kb_search": Resource("KbView", None, "Knowledge base"),
    "kb_articles": Resource("KbArticleModelView", "KbArticleApi", "KB articles"),
    "kb_categories": Resource("KbCategoryModelView", None, "KB categories"),
    # Service desk (工单, issue 4): rows scoped by access.scope_tickets.
    "ticket_desk": Resource("TicketDeskView", None, "My queue"),
    "ticket_new": Resource(None, None, "New ticket"),
    "tickets": Resource("TicketModelView", "TicketApi", "Tickets"),
    "ticket_routing_rules": Resource("TicketRoutingRuleModelView", None, "Routing rules"),
    # SLA and satisfaction (issue 4.5, 4.7, 4.9): board rows scoped by access.scope_tickets, surveys by
    # access.scope_surveys; statistics are for managers.
    "sla_board": Resource("SlaBoardView", None, "SLA board"),
    "sla_policies": Resource("SlaPolicyModelView", None, "SLA policies"),
    "surveys": Resource(None, "SurveyApi", None),
    "service_stats": Resource("ServiceStatsView", None, "Service statistics"),
    # Analytics (issue 6): segment reports for managers; the churn-risk list follows access.scope_customers.
    "analytics_segments": Resource("SegmentsView", None, "Value segments"),
    "churn_risk": Resource("ChurnRiskView", None, "Churn risk"),
    "sales_forecast": Resource("ForecastView", None, "Sales forecast"),
    # Exports (issue 6.6): anonymised analytics export and the analytics charts' data.
    "analytics_exports": Resource("AnalyticsExportView", None, "Anonymised export"),
    # Team hierarchy (issue 8.3): the structure behind access.reach (team leads, department heads).
    "teams": Resource("TeamModelView", None, "Teams"),
    "team_members": Resource("TeamMemberModelView", None, "Team members"),
    "department_structure": Resource("DepartmentStructureModelView", None, "Department structure"),
    # Dashboards (issue 6.5): company-wide figures from pre-aggregated snapshots, for managers.
    "manager_dashboard": Resource("ManagerDashboardView", None, "Manager dashboard"),
    "customer_analysis": Resource("CustomerAnalysisView", None, "Customer analysis"),
    "churn_factors": Resource("ChurnFactorsView", None, "Churn factors"),
    # The list behind the dashboard's care tiles (rows scoped by access.scope_care_tasks); no menu entry.
    "care_task_list": Resource("CareTaskListView", None, None),
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
    "campaigns": "Care",
    "leads": "Sales", "opportunities": "Sales", "contact_logs": "Sales", "orders": "Sales", "sales_board": "Sales",
    "sales_dashboard": "Sales", "sales_playbook": "Sales", "lead_import": "Sales",
    "customer_import": "Customer", "lead_import_engine": "Sales", "plan_import": "Business",
    "outbox": "Messages",
    "message_templates": "Messages",
    "kb_search": "Service",
    "kb_articles": "Service",
    "kb_categories": "Service",
    "ticket_desk": "Service",
    "ticket_new": "Service",
    "tickets": "Service",
    "ticket_routing_rules": "Service",
    "sla_board": "Service",
    "sla_policies": "Service",
    "service_stats": "Service",
    "analytics_segments": "Analytics",
    "churn_risk": "Analytics",
    "sales_forecast": "Analytics",
    "analytics_exports": "Analytics",
    "teams": "System", "team_members": "System", "department_structure": "System",
    "manager_dashboard": "Analytics", "customer_analysis": "Analytics", "churn_factors": "Analytics",
}

MATRIX: dict[str, dict[str, str]] = {
    "Manager": {
        "kb_search": "rw", "kb_articles": "rw", "kb_categories": "rwd",
        "customers": "rwd", "plans": "rwd", "value_added_services": "rwd", "subscriptions": "rw",
        "subscription_vas": "rwd",
        "usage_records": "r", "bills": "r", "bill_lines": "r", "payments": "rw", "business_changes": "r",
        "audit_logs": "r",
        "care_tasks": "rw", "care_team": "rw", "care_rules": "rwd",
        "campaigns": "rwd",
        "leads": "rw", "opportunities": "rw", "contact_logs": "rw", "orders": "rw", "sales_board": "r",
        "sales_dashboard": "r", "sales_playbook": "rwd", "lead_import": "rw",
        "customer_merge": "rw",
        "customer_import": "rw", "lead_import_engine": "rw", "plan_import": "rw",
        "outbox": "rw", "message_templates": "rwd", "message_preview": "rw",
        "ticket_desk": "rw", "ticket_new": "rw", "tickets": "rw", "ticket_routing_rules": "rwd",
        "sla_board": "r", "sla_policies": "rwd", "surveys": "r", "service_stats": "r",
        "analytics_segments": "r", "churn_risk": "r", "sales_forecast": "r", "analytics_exports": "r",
        "teams": "rwd", "team_members": "rw", "department_structure": "rw",
        "manager_dashboard": "rw", "customer_analysis": "rw", "churn_factors": "rw",
        "care_task_list": "r",
    },
    "Sales": {
        "customers": "rw", "plans": "r", "value_added_services": "r", "subscriptions": "r",
        "subscription_vas": "r", "usage_records": "r", "bills": "r", "bill_lines": "r", "payments": "r",
        "business_changes": "r", "care_tasks": "rw",
        "leads": "rw", "opportunities": "rw", "contact_logs": "rw", "orders": "rw", "sales_board": "r",
        "sales_playbook": "r", "lead_import": "rw", "lead_import_engine": "rw",
        "churn_risk": "r",
    },
    "Agent": {
        "kb_search": "r", "kb_articles": "r", "kb_categories": "r",
        "customers": "r", "plans": "r", "value_added_services": "r", "subscriptions": "r",
        "subscription_vas": "r", "usage_records": "r", "bills": "r", "bill_lines": "r", "payments": "r",
        "business_changes": "r", "care_tasks": "rw",
        "ticket_desk": "rw", "ticket_new": "rw", "tickets": "rw",
        "sla_board": "r", "surveys": "r",
    },
    "Clerk": {
        "customers": "rw", "plans": "r", "value_added_services": "r", "subscriptions": "rw",
        "subscription_vas": "rwd",
        "usage_records": "r", "bills": "r", "bill_lines": "r", "payments": "rw", "business_changes": "r",
        "care_tasks": "rw", "customer_merge": "rw",
        "customer_import": "rw",
    },
}
# Roles that may reveal full personal data, one audited record at a time (grantable by an admin).
REVEAL_ROLES = ("Manager", "Clerk")
# `can_export` (issue 6.6: list and chart exports, always masked, audited): Managers export every list
# they read; Sales export their own sales lists and customers (row rules keep them to their rows);
# Agents and Clerks do not export.
EXPORT_ROLES: dict[str, tuple[str, ...] | None] = {
    "Manager": None,  # None: every resource the role reads
    "Sales": ("customers", "leads", "opportunities", "contact_logs", "orders"),
}

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
    if role in EXPORT_ROLES:
        allowed = EXPORT_ROLES[role]
        pairs += [("can_export", RESOURCES[name].view) for name in MATRIX.get(role, {})
                  if RESOURCES[name].view and (allowed is None or name in allowed)]
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
