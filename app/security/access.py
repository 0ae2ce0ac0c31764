"""Row-level rules, in one place: page views, REST APIs and service look-ups all use these.

Sales see only the customers they own, and only those customers' records; every other role
named in the contract sees all customers (Agents read-only, which permissions enforce).
A record outside the caller's rows is "not found", never "forbidden with data".

Team hierarchy (issue 8.3): wherever a rule says "own" (owner, assignee), it means "owned by a
user the actor reaches" — the actor, the members of the teams they lead, and, for a department
head, every user of the department subtree (by `ab_user.department_id` or by their team's
department). `reach(actor)` computes that set once per request; scopes use `owner_id IN (ids)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context, request
from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import false, literal, or_, select, union_all

from app.extensions import db
from app.models.customer import Customer
from app.models.department import Department
from app.models.team import Team
from app.models.user import CrmUser
from app.security.current import current_actor
from app.services.actor import Actor


def row_filter(class_name: str, label: str, arg_name: str,
               scope: Callable[[Any, Actor, Any], Any]) -> tuple[type[BaseFilter], list[list[Any]]]:
    """The FAB filter form of a row rule, and the `base_filters` that apply it to a view or API:
    `scope(query, actor, model)` with the request's actor, so pages and APIs run the rule the
    services run. (FAB needs a column name and a value: `id` and none.)"""

    def apply(self: BaseFilter, query: Any, value: Any) -> Any:  # noqa: ARG001 - FAB's signature
        return scope(query, current_actor(), self.model)

    cls = type(class_name, (BaseFilter,), {"name": label, "arg_name": arg_name, "apply": apply, "__module__": __name__,
                                            "__doc__": f"Row rule `{arg_name}` as a FAB filter (see `row_filter`)."})
    return cls, [["id", cls, lambda: None]]


# --- team hierarchy: which users' records an actor reaches --------------------------------------
@dataclass(frozen=True)
class Reach:
    """The users whose records the actor sees as if their own (always including the actor), and
    the departments whose head they are (with every descendant department)."""

    user_ids: frozenset[int]
    department_ids: frozenset[int] = frozenset()

    @property
    def beyond_self(self) -> bool:
        """True for a team lead or department head (someone else's records are reached)."""
        return len(self.user_ids) > 1 or bool(self.department_ids)


_REACH_KEY = "_crm_reach"


def _request_cache() -> dict[int, Reach] | None:
    """A per-request cache on `flask.g`, keyed to the request object itself: tests (and CLI code)
    may keep one app context, hence one `g`, across requests, and a user moved between teams must
    change what the next request sees. Outside a request nothing is cached."""
    if not has_request_context():
        return None
    current = request._get_current_object()  # noqa: SLF001 - the request itself, not the proxy
    holder = g.get(_REACH_KEY)
    if holder is None or holder[0] is not current:
        holder = (current, {})
        setattr(g, _REACH_KEY, holder)
    return holder[1]


def _subtree(roots: set[int]) -> set[int]:
    """Every department under `roots` (included): one read of the small department table, walked
    in Python (the same on SQLite and PostgreSQL; cycles cannot loop)."""
    children: dict[int, list[int]] = {}
    for dept_id, parent_id in db.session.execute(select(Department.id, Department.parent_id)):
        if parent_id is not None:
            children.setdefault(parent_id, []).append(dept_id)
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        dept_id = todo.pop()
        if dept_id in seen:
            continue
        seen.add(dept_id)
        todo.extend(children.get(dept_id, ()))
    return seen


def _compute_reach(user_id: int) -> Reach:
    # One query answers the common case (a plain member leads nothing and heads nothing).
    led = select(literal("t").label("kind"), Team.id.label("id")).where(Team.lead_user_id == user_id)
    headed = select(literal("d").label("kind"), Department.id.label("id")).where(Department.head_user_id == user_id)
    rows = db.session.execute(union_all(led, headed)).all()
    if not rows:
        return Reach(frozenset({user_id}))
    team_ids = {row.id for row in rows if row.kind == "t"}
    departments = _subtree({row.id for row in rows if row.kind == "d"})
    conds = []
    if team_ids:
        conds.append(CrmUser.team_id.in_(sorted(team_ids)))
    if departments:
        dept_list = sorted(departments)
        conds.append(CrmUser.department_id.in_(dept_list))
        conds.append(CrmUser.team_id.in_(select(Team.id).where(Team.department_id.in_(dept_list))))
    members = set(db.session.execute(select(CrmUser.id).where(or_(*conds))).scalars())
    return Reach(frozenset(members | {user_id}), frozenset(departments))


def reach(actor: Actor) -> Reach:
    """The actor's hierarchy reach, computed once per request (never cached across requests)."""
    if actor.id is None:
        return Reach(frozenset())
    cache = _request_cache()
    if cache is not None and actor.id in cache:
        return cache[actor.id]
    result = _compute_reach(actor.id)
    if cache is not None:
        cache[actor.id] = result
    return result


def visible_user_ids(actor: Actor) -> frozenset[int]:
    """The users whose owned/assigned records the actor sees by the hierarchy (self included)."""
    return reach(actor).user_ids


def _among(column: Any, ids: frozenset[int]) -> Any:
    """`column IN (ids)` — a plain equality for the common single id, so plans stay unchanged."""
    if not ids:
        return false()
    if len(ids) == 1:
        return column == next(iter(ids))
    return column.in_(sorted(ids))

# Roles whose rows are limited to the customers they own.
OWNER_SCOPED_ROLES = frozenset({"Sales"})
# Roles that see every customer; they win over OWNER_SCOPED_ROLES when a user has both.
ALL_ROWS_ROLES = frozenset({"Admin", "Manager", "Clerk", "Agent"})


def owner_scope(actor: Actor) -> int | None:
    """The actor's own id when their customer rows are owner-limited, or None for all rows
    (`visible_owner_ids` gives the full set of owners, team and department included)."""
    if actor.roles & ALL_ROWS_ROLES:
        return None
    if actor.roles & OWNER_SCOPED_ROLES:
        return actor.id if actor.id is not None else -1
    # Unknown or no role: nothing.
    return -1


def visible_owner_ids(actor: Actor) -> frozenset[int] | None:
    """The owners whose customers the actor sees (self, team, department subtree), None for all."""
    owner = owner_scope(actor)
    if owner is None:
        return None
    if owner == -1:
        return frozenset()
    return visible_user_ids(actor)


def scope_customers(stmt: Any, actor: Actor, model: Any = Customer) -> Any:
    """Restrict a query/select over `model`: Customer, a model with `customer_id`, or one with
    `bill_id` or `subscription_id`."""
    owners = visible_owner_ids(actor)
    if owners is None:
        return stmt
    if model is Customer:
        return stmt.filter(_among(Customer.owner_id, owners))
    owned = select(Customer.id).where(_among(Customer.owner_id, owners))
    if hasattr(model, "customer_id"):
        return stmt.filter(model.customer_id.in_(owned))
    if hasattr(model, "bill_id"):
        # Bill lines follow their bill's customer.
        from app.models.bill import Bill

        bills = select(Bill.id).where(Bill.customer_id.in_(owned))
        return stmt.filter(model.bill_id.in_(bills))
    # Records hanging off a line (e.g. the VAS on a subscription) follow the line's customer.
    from app.models.subscription import Subscription

    lines = select(Subscription.id).where(Subscription.customer_id.in_(owned))
    return stmt.filter(model.subscription_id.in_(lines))


# Use as `base_filters = ACCESS_FILTER`, or on a record hanging off a customer
# `[["customer_id", CustomerAccessFilter, lambda: None]]`.
CustomerAccessFilter, ACCESS_FILTER = row_filter(
    "CustomerAccessFilter", "Customer row access", "crm_access", scope_customers)


# --- care tasks (关怀待办): a user sees the tasks assigned to them; Managers and Admins see all ---
CARE_ALL_ROLES = frozenset({"Admin", "Manager"})


def sees_all_care_tasks(actor: Actor) -> bool:
    return bool(actor.roles & CARE_ALL_ROLES)


def scope_care_tasks(stmt: Any, actor: Actor) -> Any:
    """Restrict a select over CareTask to the tasks the actor may see."""
    from app.models.care import CareTask

    if sees_all_care_tasks(actor):
        return stmt
    return stmt.filter(_among(CareTask.assignee_id, visible_user_ids(actor)))


CareTaskAccessFilter, CARE_TASK_ACCESS_FILTER = row_filter(
    "CareTaskAccessFilter", "Care task row access", "crm_care_access",
    lambda stmt, actor, _model: scope_care_tasks(stmt, actor))


# --- sales (issue 3): Sales see and edit only the leads, opportunities, contact logs and orders they
# own; Managers and Admins see all. Every other role sees none (and holds no permission on them).
SALES_ALL_ROLES = frozenset({"Admin", "Manager"})


def sees_all_sales(actor: Actor) -> bool:
    return bool(actor.roles & SALES_ALL_ROLES)


def scope_sales(stmt: Any, actor: Actor, model: Any) -> Any:
    """Restrict a select over a sales model (Lead, Opportunity, ContactLog, SalesOrder) by owner:
    the actor's own, their team's (as lead) and their department subtree's (as head)."""
    if sees_all_sales(actor):
        return stmt
    return stmt.filter(_among(model.owner_id, visible_user_ids(actor)))


SalesAccessFilter, SALES_ACCESS_FILTER = row_filter(
    "SalesAccessFilter", "Sales row access", "crm_sales_access", scope_sales)


# --- knowledge base (知识库): Managers and Admins write and see every article; others read published ---
KB_WRITER_ROLES = frozenset({"Admin", "Manager"})


def is_kb_writer(actor: Actor) -> bool:
    return bool(actor.roles & KB_WRITER_ROLES)


def scope_kb_articles(stmt: Any, actor: Actor) -> Any:
    """Restrict a select over KbArticle: drafts and archived articles are for writers only."""
    from app.models.kb import KbArticle

    if is_kb_writer(actor):
        return stmt
    return stmt.filter(KbArticle.status == "published")


KbArticleAccessFilter, KB_ARTICLE_ACCESS_FILTER = row_filter(
    "KbArticleAccessFilter", "Knowledge base article access", "crm_kb_access",
    lambda stmt, actor, _model: scope_kb_articles(stmt, actor))


# --- service tickets (工单): an Agent sees the tickets assigned to them and their department's
# unassigned queue; Managers and Admins see all; every other role none. Used by pages, API, services.
TICKET_ALL_ROLES = frozenset({"Admin", "Manager"})


def sees_all_tickets(actor: Actor) -> bool:
    return bool(actor.roles & TICKET_ALL_ROLES)


def scope_tickets(stmt: Any, actor: Actor, model: Any = None) -> Any:
    """Restrict a select over Ticket (or a model with `ticket_id`) to the tickets the actor may see."""
    from sqlalchemy import and_

    from app.models.ticket import Ticket

    if sees_all_tickets(actor):
        return stmt
    hierarchy = reach(actor)
    if actor.id is not None and ("Agent" in actor.roles or hierarchy.beyond_self):
        # Assigned to the actor or to a user they reach (team lead, department head) ...
        cond = _among(Ticket.assignee_id, hierarchy.user_ids)
        # ... plus the unassigned queue of the agent's department and of the departments they head.
        queues = set(hierarchy.department_ids)
        if "Agent" in actor.roles and actor.department_id is not None:
            queues.add(actor.department_id)
        if queues:
            cond = or_(cond, and_(Ticket.assignee_id.is_(None), _among(Ticket.department_id, frozenset(queues))))
    else:
        cond = false()
    if model is not None and model is not Ticket and hasattr(model, "ticket_id"):
        return stmt.filter(model.ticket_id.in_(select(Ticket.id).where(cond)))
    return stmt.filter(cond)


TicketAccessFilter, TICKET_ACCESS_FILTER = row_filter(
    "TicketAccessFilter", "Ticket row access", "crm_ticket_access", scope_tickets)


# --- satisfaction surveys (满意度回访): whoever may see the ticket may see its surveys ---
def scope_surveys(stmt: Any, actor: Actor) -> Any:
    """Restrict a select over Survey: Managers and Admins all, Agents those of tickets they may see."""
    from sqlalchemy import and_

    from app.models.survey import Survey
    from app.models.ticket import Ticket

    if sees_all_tickets(actor):
        return stmt
    visible = scope_tickets(select(Ticket.id), actor)
    return stmt.filter(and_(Survey.subject_type == "ticket", Survey.subject_id.in_(visible)))


SurveyAccessFilter, SURVEY_ACCESS_FILTER = row_filter(
    "SurveyAccessFilter", "Survey row access", "crm_survey_access",
    lambda stmt, actor, _model: scope_surveys(stmt, actor))


# --- imports (issue 8.1): a run is its importer's; Admins and Managers see every run ---------------
def scope_import_runs(stmt: Any, actor: Actor) -> Any:
    from app.models.import_job import ImportRun

    if actor.has_role("Admin", "Manager"):
        return stmt
    return stmt.where(ImportRun.user_id == actor.id) if actor.id is not None else stmt.where(false())
