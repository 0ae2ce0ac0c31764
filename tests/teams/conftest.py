"""Team hierarchy tests: a small organisation built through the services, reset after each test.

Departments: tm-east (head: tm_head) with the sub-department tm-east-1, and tm-west beside them.
Teams in tm-east: "East A" (lead tm_lead, member tm_member), "East B" (tm_peer, tm_floater, who has
no department of their own), and the agents' "East Desk" (lead tm_alead, member tm_amember; the peer
agent tm_apeer is in no team). tm_child works in tm-east-1, tm_sibling in tm-west.

Users and departments stay (like the demo users); teams, heads and memberships are undone here.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models.department import Department
from app.models.team import Team
from app.models.user import CrmUser
from tests.conftest import TEST_PASSWORD, actor_for

DEPARTMENTS = (("tm-east", "东区", None), ("tm-east-1", "东区一部", "tm-east"), ("tm-west", "西区", None))
USERS = {
    "tm_head": ("Sales", "tm-east"),
    "tm_lead": ("Sales", "tm-east"),
    "tm_member": ("Sales", "tm-east"),
    "tm_peer": ("Sales", "tm-east"),
    "tm_floater": ("Sales", None),
    "tm_child": ("Sales", "tm-east-1"),
    "tm_sibling": ("Sales", "tm-west"),
    "tm_alead": ("Agent", "tm-east"),
    "tm_amember": ("Agent", "tm-east"),
    "tm_apeer": ("Agent", "tm-east"),
}
_seq = itertools.count(1)


def dept_id(code: str) -> int:
    return db.session.execute(select(Department.id).where(Department.code == code)).scalar_one()


def uid(username: str) -> int:
    return actor_for(username).id


def _ensure_people() -> None:
    from app.services import setup

    for code, name, _parent in DEPARTMENTS:
        if db.session.execute(select(Department.id).where(Department.code == code)).first() is None:
            db.session.add(Department(code=code, name=name))
    db.session.commit()
    for code, _name, parent in DEPARTMENTS:
        db.session.execute(update(Department).where(Department.code == code)
                           .values(parent_id=dept_id(parent) if parent else None, head_user_id=None))
    db.session.commit()
    for username, (role, dept) in USERS.items():
        if setup.appbuilder.sm.find_user(username=username) is None:
            setup.create_user(username, TEST_PASSWORD, role, department=dept)


def _reset() -> None:
    db.session.rollback()
    db.session.execute(update(CrmUser).where(CrmUser.team_id.is_not(None)).values(team_id=None))
    db.session.execute(update(Department).where(Department.head_user_id.is_not(None)).values(head_user_id=None))
    db.session.execute(Team.__table__.delete())
    db.session.commit()


@pytest.fixture
def org(app):  # noqa: ANN001, ANN201
    """The organisation above, built with `services.teams` as a manager; ids as plain values."""
    from app.services import teams

    with app.app_context():
        _ensure_people()
        _reset()
        boss = actor_for("manager")
        east = dept_id("tm-east")
        team_a = teams.create_team({"name": "East A", "department_id": east, "lead_user_id": uid("tm_lead")}, boss)
        teams.move_user(uid("tm_member"), team_a.id, boss)
        team_b = teams.create_team({"name": "East B", "department_id": east}, boss)
        teams.move_user(uid("tm_peer"), team_b.id, boss)
        teams.move_user(uid("tm_floater"), team_b.id, boss)
        desk = teams.create_team({"name": "East Desk", "department_id": east, "lead_user_id": uid("tm_alead")},
                                 boss)
        teams.move_user(uid("tm_amember"), desk.id, boss)
        teams.update_department(east, {"head_user_id": uid("tm_head")}, boss)
        out = SimpleNamespace(team_a=team_a.id, team_b=team_b.id, desk=desk.id, east=east,
                              east_1=dept_id("tm-east-1"), west=dept_id("tm-west"),
                              ids={u: uid(u) for u in USERS})
    yield out
    with app.app_context():
        _reset()


# --- records owned/assigned by the organisation's people ---------------------------------------------

def make_customer_for(username: str) -> Any:
    from tests.factories import make_customer

    return make_customer(actor_for(username), name=f"团队客户-{username}-{next(_seq)}")


def make_lead_for(username: str) -> Any:
    from app.services import leads

    n = next(_seq)
    return leads.create({"name": f"团队线索-{username}-{n}", "mobile": f"1360000{n:04d}", "source": "website"},
                        actor_for(username))


def make_opportunity_for(username: str, customer_id: int | None = None) -> Any:
    from app.services import opportunities

    customer_id = customer_id or make_customer_for(username).id
    return opportunities.create({"customer_id": customer_id, "name": f"商机-{username}",
                                 "expected_revenue": "1000.00"}, actor_for(username))


def make_ticket_for(agent: str) -> Any:
    """A ticket in tm-east assigned to `agent` by a manager."""
    from app.services import tickets
    from tests.factories import make_customer

    customer = make_customer(actor_for("admin2"))
    ticket = tickets.create({"channel": "phone", "ticket_type": "consultation", "subject": f"工单-{agent}",
                             "customer_id": customer.id, "department_id": dept_id("tm-east")},
                            actor_for("admin2"))
    if ticket.assignee_id != uid(agent):
        tickets.assign(ticket.id, uid(agent), actor_for("manager"))
    return ticket


def make_care_task_for(username: str) -> Any:
    import datetime as dt

    from app.models.care import CareRule, CareTask
    from tests.factories import make_customer

    rule = db.session.execute(select(CareRule).order_by(CareRule.id).limit(1)).scalar_one()
    customer = make_customer(actor_for("admin2"))
    task = CareTask(rule_id=rule.id, customer_id=customer.id, occurrence_key=f"tm{next(_seq)}",
                    due_date=dt.date(2026, 3, 1), assignee_id=uid(username), status="open")
    db.session.add(task)
    db.session.commit()
    return task
