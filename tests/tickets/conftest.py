"""Ticket tests: builders through the services, a fixed clock, and the shipped routing rules reset."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models.department import Department
from tests.conftest import actor_for
from tests.factories import make_customer, make_plan

T0 = dt.datetime(2026, 3, 2, 1, 0)  # 09:00 in Asia/Shanghai
_lines = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_routing(app):  # noqa: ANN001, ANN201
    yield
    from app.services.ticket_routing import ensure_defaults

    with app.app_context():
        db.session.rollback()
        db.session.execute(text("DELETE FROM ticket_routing_rule"))
        db.session.commit()
        ensure_defaults()


@pytest.fixture(autouse=True)
def _only_demo_agents(app):  # noqa: ANN001, ANN201
    """Assignment tests count on agent1 being customer service's only agent and agent2 technical's:
    agents other areas' tests created are set inactive for the test, then restored."""
    from flask_appbuilder.security.sqla.models import Role

    from app.models.user import CrmUser

    with app.app_context():
        others = list(db.session.execute(
            select(CrmUser.id).join(CrmUser.roles).where(
                Role.name == "Agent", CrmUser.active.is_(True), CrmUser.username.not_in(("agent1", "agent2")))
        ).scalars())
        if others:
            db.session.execute(CrmUser.__table__.update().where(CrmUser.id.in_(others)).values(active=False))
            db.session.commit()
    yield
    if others:
        with app.app_context():
            db.session.rollback()
            db.session.execute(CrmUser.__table__.update().where(CrmUser.id.in_(others)).values(active=True))
            db.session.commit()


def dept(code: str) -> int:
    return db.session.execute(select(Department.id).where(Department.code == code)).scalar_one()


def user_id(username: str) -> int:
    return actor_for(username).id


def customer_with_line(**overrides: Any) -> tuple[Any, Any]:
    from app.services import subscriptions

    admin = actor_for("admin2")
    customer = make_customer(admin, **overrides)
    plan = make_plan(admin)
    line = subscriptions.open_line({"customer_id": customer.id, "plan_id": plan.id,
                                    "number": f"139{next(_lines):08d}"}, admin)
    return customer, line


def new_ticket(actor_name: str = "agent1", *, at: dt.datetime = T0, **overrides: Any) -> Any:
    from app.services import tickets

    customer_id = overrides.pop("customer_id", None)
    if customer_id is None:
        customer_id = make_customer(actor_for("admin2")).id
    data = {"channel": "phone", "ticket_type": "consultation", "subject": "套餐余量查询",
            "description": "客户询问本月剩余流量", "customer_id": customer_id}
    data.update(overrides)
    return tickets.create(data, actor_for(actor_name), at=at)
