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
