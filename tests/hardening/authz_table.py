"""The authorisation matrix as the contract states it: one row per resource of `roles.RESOURCES`.

This table is written by hand on purpose: it is the second source of truth that
`app/security/roles.py` (MATRIX) and the row rules of `app/security/access.py` are checked against
(tests/hardening/test_authz_matrix.py). A resource added to RESOURCES without a row here fails the test.

Per resource:
- `ui`: the actions its page offers — l list, s show, a add, e edit, d delete, x export (CSV of the
  list); "p" for a page that is not a ModelView (agenda, board, dashboard: only opening its default
  page is checked); "" for none.
- `api`: the same letters for its REST API (GET list, GET one, POST, PUT, DELETE); "" for none.
- one level per role: "-" nothing, "r" read (list/show/page), "rw" read and write (add/edit, not
  delete), "rwd" everything.
- `export`: the roles that may export the list (those that read it and are named here).
- `hidden`: demo users that hold the permission but must not see the shared fixture record
  (row rules): their show/edit page and API GET one answer 404 and their lists leave it out.
  The fixture records belong to sales1's customers; the fixture ticket is in agent1's department
  (customer-service), unassigned; the fixture care task is assigned to sales1.
"""

from __future__ import annotations

from dataclasses import dataclass

# The demo user who plays each role in the test; peers exercise the row rules.
ROLE_USERS = {"Admin": "admin2", "Manager": "manager", "Sales": "sales1", "Agent": "agent1", "Clerk": "clerk1"}
PEERS = {"sales2": "Sales", "agent2": "Agent"}


@dataclass(frozen=True)
class Row:
    ui: str
    api: str
    Admin: str = "rwd"
    Manager: str = "-"
    Sales: str = "-"
    Agent: str = "-"
    Clerk: str = "-"
    export: frozenset[str] = frozenset({"Admin", "Manager"})
    hidden: frozenset[str] = frozenset()


# Every customer-linked record of the fixture belongs to sales1: the other salesperson sees none of it.
PEER_SALES = frozenset({"sales2"})
# Sales-owned work (leads, opportunities, …): only the owner among the non-managers.
CARE_TASK_HIDDEN = frozenset({"sales2", "agent1", "agent2", "clerk1"})
TICKET_HIDDEN = frozenset({"agent2"})
# Salespeople export their own customers and sales lists (row rules keep the file to their rows).
SALES_EXPORT = frozenset({"Admin", "Manager", "Sales"})

TABLE: dict[str, Row] = {
    "customers": Row("lsaedx", "lsaed", Manager="rwd", Sales="rw", Agent="r", Clerk="rw", export=SALES_EXPORT,
                     hidden=PEER_SALES),
    "plans": Row("lsaex", "lsae", Manager="rwd", Sales="r", Agent="r", Clerk="r"),
    "value_added_services": Row("lsaex", "lsae", Manager="rwd", Sales="r", Agent="r", Clerk="r"),
    "subscriptions": Row("lsax", "lsa", Manager="rw", Sales="r", Agent="r", Clerk="rw", hidden=PEER_SALES),
    "subscription_vas": Row("lsadx", "", Manager="rwd", Sales="r", Agent="r", Clerk="rwd", hidden=PEER_SALES),
    "usage_records": Row("lsx", "ls", Manager="r", Sales="r", Agent="r", Clerk="r", hidden=PEER_SALES),
    "bills": Row("lsx", "ls", Manager="r", Sales="r", Agent="r", Clerk="r", hidden=PEER_SALES),
    "bill_lines": Row("lsx", "", Manager="r", Sales="r", Agent="r", Clerk="r", hidden=PEER_SALES),
    "payments": Row("lsax", "lsa", Manager="rw", Sales="r", Agent="r", Clerk="rw", hidden=PEER_SALES),
    "business_changes": Row("lsx", "ls", Manager="r", Sales="r", Agent="r", Clerk="r", hidden=PEER_SALES),
    "audit_logs": Row("lsx", "ls", Manager="r"),
    "care_tasks": Row("p", "lse", Manager="rw", Sales="rw", Agent="rw", Clerk="rw", hidden=CARE_TASK_HIDDEN),
    "care_team": Row("p", "", Manager="rw"),
    "care_rules": Row("lsaedx", "lsaed", Manager="rwd"),
    "leads": Row("lsaex", "lsae", Manager="rw", Sales="rw", export=SALES_EXPORT, hidden=PEER_SALES),
    "opportunities": Row("lsaex", "lsae", Manager="rw", Sales="rw", export=SALES_EXPORT, hidden=PEER_SALES),
    "contact_logs": Row("lsex", "lsae", Manager="rw", Sales="rw", export=SALES_EXPORT, hidden=PEER_SALES),
    "orders": Row("lsx", "lsae", Manager="rw", Sales="rw", export=SALES_EXPORT, hidden=PEER_SALES),
    "sales_board": Row("p", "", Manager="r", Sales="r"),
    "sales_dashboard": Row("p", "", Manager="r"),
    "sales_playbook": Row("lsaedx", "", Manager="rwd", Sales="r"),
    "lead_import": Row("", "", Manager="rw", Sales="rw"),  # a menu link to LeadModelView's import
    "outbox": Row("p", "", Manager="rw"),
    "message_templates": Row("lsaedx", "", Manager="rwd"),
    "message_preview": Row("", "", Manager="rw"),  # opened for one template
    "kb_search": Row("p", "", Manager="rw", Agent="r"),
    "kb_articles": Row("lsaex", "lsae", Manager="rw", Agent="r"),
    "kb_categories": Row("lsaedx", "", Manager="rwd", Agent="r"),
    "ticket_desk": Row("p", "", Manager="rw", Agent="rw"),
    "ticket_new": Row("", "", Manager="rw", Agent="rw"),  # a menu link to the desk's new-ticket form
    "tickets": Row("lsx", "lsa", Manager="rw", Agent="rw", hidden=TICKET_HIDDEN),
    "ticket_routing_rules": Row("lsaedx", "", Manager="rwd"),
    "sla_board": Row("p", "", Manager="r", Agent="r"),
    "sla_policies": Row("lsaedx", "", Manager="rwd"),
    "surveys": Row("", "ls", Manager="r", Agent="r", hidden=TICKET_HIDDEN),
    "service_stats": Row("p", "", Manager="r"),
    "analytics_segments": Row("p", "", Manager="r"),
    "churn_risk": Row("p", "", Manager="r", Sales="r"),
    "sales_forecast": Row("p", "", Manager="r"),
    # Added by the areas built in parallel with this table (imports, merge, campaigns, teams,
    # exports, dashboards): levels as their issues give them.
    "customer_merge": Row("", "", Manager="rw", Clerk="rw"),  # opened from a customer's 360 page
    "campaigns": Row("p", "lsaed", Manager="rwd"),
    "customer_import": Row("p", "", Manager="rw", Clerk="rw"),
    "lead_import_engine": Row("p", "", Manager="rw", Sales="rw"),
    "plan_import": Row("p", "", Manager="rw"),
    "analytics_exports": Row("p", "", Manager="r"),
    "teams": Row("lsaedx", "", Manager="rwd"),
    "team_members": Row("lsex", "", Manager="rw"),
    "department_structure": Row("lsex", "", Manager="rw"),
    "manager_dashboard": Row("p", "", Manager="rw"),
    "care_task_list": Row("lx", "", Manager="r"),
    "customer_analysis": Row("p", "", Manager="rw"),
    "churn_factors": Row("p", "", Manager="rw"),
}

LEVEL_ACTIONS = {"-": "", "r": "lsp", "rw": "lsaep", "rwd": "lsaedp"}


def allowed(resource: str, role: str, action: str) -> bool:
    """Whether `role` may perform `action` (one letter) on `resource` according to the table."""
    row = TABLE[resource]
    if action == "x":
        return role in row.export and "l" in LEVEL_ACTIONS[getattr(row, role)]
    return action in LEVEL_ACTIONS[getattr(row, role)]
