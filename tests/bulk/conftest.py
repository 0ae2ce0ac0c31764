"""Bulk and saved-view test helpers: customers in two cities, FAB filter indexes by operator."""

from __future__ import annotations

from typing import Any

from app.extensions import appbuilder
from tests.conftest import actor_for
from tests.factories import make_customer


def user_id(username: str) -> int:
    return appbuilder.sm.find_user(username=username).id


def make_customers(n: int, city: str, owner: str = "sales1", **overrides: Any) -> list[int]:
    """`n` customers in `city` owned by `owner` (created by a manager, so the owner can be anyone)."""
    manager = actor_for("manager")
    return [make_customer(manager, city=city, owner_id=user_id(owner), **overrides).id for _ in range(n)]


def flt_index(model: Any, column: str, arg_name: str) -> int:
    """Position of a filter operator in FAB's list for a column (what `_flt_<n>_<col>` names)."""
    from app.views.datamodel import CrmSQLAInterface

    filters = CrmSQLAInterface(model).get_filters()._all_filters[column]
    return next(i for i, f in enumerate(filters) if f.arg_name == arg_name)


def city_filter(city: str) -> list[list[Any]]:
    from app.models.customer import Customer

    return [["city", flt_index(Customer, "city", "eq"), [city]]]


def city_arg(city: str) -> str:
    from app.models.customer import Customer

    return f"_flt_{flt_index(Customer, 'city', 'eq')}_city={city}"
