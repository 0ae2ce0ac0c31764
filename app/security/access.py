"""Row-level rules, in one place: page views, REST APIs and service look-ups all use these.

Sales see only the customers they own, and only those customers' records; every other role
named in the contract sees all customers (Agents read-only, which permissions enforce).
A record outside the caller's rows is "not found", never "forbidden with data".
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder.models.filters import BaseFilter
from sqlalchemy import select

from app.models.customer import Customer
from app.security.current import current_actor
from app.services.actor import Actor

# Roles whose rows are limited to the customers they own.
OWNER_SCOPED_ROLES = frozenset({"Sales"})
# Roles that see every customer; they win over OWNER_SCOPED_ROLES when a user has both.
ALL_ROWS_ROLES = frozenset({"Admin", "Manager", "Clerk", "Agent"})


def owner_scope(actor: Actor) -> int | None:
    """The owner id the actor's rows are limited to, or None for all rows."""
    if actor.roles & ALL_ROWS_ROLES:
        return None
    if actor.roles & OWNER_SCOPED_ROLES:
        return actor.id if actor.id is not None else -1
    # Unknown or no role: nothing.
    return -1


def scope_customers(stmt: Any, actor: Actor, model: Any = Customer) -> Any:
    """Restrict a query/select over `model`: Customer, a model with `customer_id`, or one with
    `bill_id` or `subscription_id`."""
    owner = owner_scope(actor)
    if owner is None:
        return stmt
    if model is Customer:
        return stmt.filter(Customer.owner_id == owner)
    owned = select(Customer.id).where(Customer.owner_id == owner)
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


class CustomerAccessFilter(BaseFilter):
    """FAB filter form of `scope_customers`, for `base_filters` on views and APIs.

    Use as `base_filters = [["id", CustomerAccessFilter, lambda: None]]`.
    """

    name = "Customer row access"
    arg_name = "crm_access"

    def apply(self, query, value):  # noqa: ANN001, ANN201 - FAB's signature
        return scope_customers(query, current_actor(), self.model)


ACCESS_FILTER = [["id", CustomerAccessFilter, lambda: None]]


# --- care tasks (关怀待办): a user sees the tasks assigned to them; Managers and Admins see all ---
CARE_ALL_ROLES = frozenset({"Admin", "Manager"})


def sees_all_care_tasks(actor: Actor) -> bool:
    return bool(actor.roles & CARE_ALL_ROLES)


def scope_care_tasks(stmt: Any, actor: Actor) -> Any:
    """Restrict a select over CareTask to the tasks the actor may see."""
    from app.models.care import CareTask

    if sees_all_care_tasks(actor):
        return stmt
    return stmt.filter(CareTask.assignee_id == (actor.id if actor.id is not None else -1))


class CareTaskAccessFilter(BaseFilter):
    """FAB filter form of `scope_care_tasks`: `base_filters = CARE_TASK_ACCESS_FILTER`."""

    name = "Care task row access"
    arg_name = "crm_care_access"

    def apply(self, query, value):  # noqa: ANN001, ANN201 - FAB's signature
        return scope_care_tasks(query, current_actor())


CARE_TASK_ACCESS_FILTER = [["id", CareTaskAccessFilter, lambda: None]]


# --- sales (issue 3): Sales see and edit only the leads, opportunities, contact logs and orders they
# own; Managers and Admins see all. Every other role sees none (and holds no permission on them).
SALES_ALL_ROLES = frozenset({"Admin", "Manager"})


def sees_all_sales(actor: Actor) -> bool:
    return bool(actor.roles & SALES_ALL_ROLES)


def scope_sales(stmt: Any, actor: Actor, model: Any) -> Any:
    """Restrict a select over a sales model (Lead, Opportunity, ContactLog, SalesOrder) by owner."""
    if sees_all_sales(actor):
        return stmt
    return stmt.filter(model.owner_id == (actor.id if actor.id is not None else -1))


class SalesAccessFilter(BaseFilter):
    """FAB filter form of `scope_sales`: `base_filters = SALES_ACCESS_FILTER`."""

    name = "Sales row access"
    arg_name = "crm_sales_access"

    def apply(self, query, value):  # noqa: ANN001, ANN201 - FAB's signature
        return scope_sales(query, current_actor(), self.model)


SALES_ACCESS_FILTER = [["id", SalesAccessFilter, lambda: None]]


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


class KbArticleAccessFilter(BaseFilter):
    """FAB filter form of `scope_kb_articles`: `base_filters = KB_ARTICLE_ACCESS_FILTER`."""

    name = "Knowledge base article access"
    arg_name = "crm_kb_access"

    def apply(self, query, value):  # noqa: ANN001, ANN201 - FAB's signature
        return scope_kb_articles(query, current_actor())


KB_ARTICLE_ACCESS_FILTER = [["id", KbArticleAccessFilter, lambda: None]]


# --- service tickets (工单): an Agent sees the tickets assigned to them and their department's
# unassigned queue; Managers and Admins see all; every other role none. Used by pages, API, services.
TICKET_ALL_ROLES = frozenset({"Admin", "Manager"})


def sees_all_tickets(actor: Actor) -> bool:
    return bool(actor.roles & TICKET_ALL_ROLES)


def scope_tickets(stmt: Any, actor: Actor, model: Any = None) -> Any:
    """Restrict a select over Ticket (or a model with `ticket_id`) to the tickets the actor may see."""
    from sqlalchemy import and_, false, or_

    from app.models.ticket import Ticket

    if sees_all_tickets(actor):
        return stmt
    if "Agent" in actor.roles and actor.id is not None:
        cond = Ticket.assignee_id == actor.id
        if actor.department_id is not None:
            cond = or_(cond, and_(Ticket.assignee_id.is_(None), Ticket.department_id == actor.department_id))
    else:
        cond = false()
    if model is not None and model is not Ticket and hasattr(model, "ticket_id"):
        return stmt.filter(model.ticket_id.in_(select(Ticket.id).where(cond)))
    return stmt.filter(cond)


class TicketAccessFilter(BaseFilter):
    """FAB filter form of `scope_tickets`: `base_filters = TICKET_ACCESS_FILTER`."""

    name = "Ticket row access"
    arg_name = "crm_ticket_access"

    def apply(self, query, value):  # noqa: ANN001, ANN201 - FAB's signature
        return scope_tickets(query, current_actor(), self.model)


TICKET_ACCESS_FILTER = [["id", TicketAccessFilter, lambda: None]]


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


class SurveyAccessFilter(BaseFilter):
    """FAB filter form of `scope_surveys`: `base_filters = SURVEY_ACCESS_FILTER`."""

    name = "Survey row access"
    arg_name = "crm_survey_access"

    def apply(self, query, value):  # noqa: ANN001, ANN201 - FAB's signature
        return scope_surveys(query, current_actor())


SURVEY_ACCESS_FILTER = [["id", SurveyAccessFilter, lambda: None]]
