"""Who sees whose records through the service layer (`app.security.access` scopes and `get`s):
team lead vs member vs peer team, department head vs sibling department, and a move between teams."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.care import CareTask
from app.models.customer import Customer
from app.models.lead import Lead
from app.models.opportunity import Opportunity
from app.models.ticket import Ticket
from app.security.access import reach, scope_care_tasks, scope_customers, scope_sales, scope_tickets
from app.services import customers, leads, opportunities, teams, tickets
from app.services.errors import NotFound
from tests.conftest import actor_for
from tests.teams.conftest import (
    make_care_task_for,
    make_customer_for,
    make_lead_for,
    make_opportunity_for,
    make_ticket_for,
    uid,
)


def customers_seen(who: str) -> set[int]:
    return set(db.session.execute(scope_customers(select(Customer.id), actor_for(who))).scalars())


def sales_seen(model, who: str) -> set[int]:  # noqa: ANN001
    return set(db.session.execute(scope_sales(select(model.id), actor_for(who), model)).scalars())


def test_team_lead_sees_members_customers_but_not_the_peer_teams(ctx, org):
    own = {u: make_customer_for(u).id for u in ("tm_lead", "tm_member", "tm_peer")}
    assert customers_seen("tm_lead") == {own["tm_lead"], own["tm_member"]}
    assert customers_seen("tm_member") == {own["tm_member"]}  # a member: as before, own only
    assert customers_seen("tm_peer") == {own["tm_peer"]}
    assert customers.get(own["tm_member"], actor_for("tm_lead")).id == own["tm_member"]
    with pytest.raises(NotFound):
        customers.get(own["tm_peer"], actor_for("tm_lead"))
    with pytest.raises(NotFound):
        customers.get(own["tm_lead"], actor_for("tm_member"))


def test_team_lead_sees_members_leads_and_opportunities(ctx, org):
    lead_rows = {u: make_lead_for(u).id for u in ("tm_lead", "tm_member", "tm_peer")}
    opps = {u: make_opportunity_for(u).id for u in ("tm_lead", "tm_member", "tm_peer")}
    assert sales_seen(Lead, "tm_lead") == {lead_rows["tm_lead"], lead_rows["tm_member"]}
    assert sales_seen(Opportunity, "tm_lead") == {opps["tm_lead"], opps["tm_member"]}
    assert sales_seen(Lead, "tm_member") == {lead_rows["tm_member"]}
    assert sales_seen(Opportunity, "tm_peer") == {opps["tm_peer"]}
    assert leads.get(lead_rows["tm_member"], actor_for("tm_lead")).id == lead_rows["tm_member"]
    assert opportunities.get(opps["tm_member"], actor_for("tm_lead")).id == opps["tm_member"]
    for fn, pk in ((leads.get, lead_rows["tm_peer"]), (opportunities.get, opps["tm_peer"]),
                   (leads.get, lead_rows["tm_lead"])):
        with pytest.raises(NotFound):
            fn(pk, actor_for("tm_lead") if pk != lead_rows["tm_lead"] else actor_for("tm_member"))
    # Managers: everything, unchanged.
    assert {lead_rows["tm_lead"], lead_rows["tm_member"], lead_rows["tm_peer"]} <= sales_seen(Lead, "manager")


def test_agent_team_lead_sees_members_tickets_not_a_peers(ctx, org):
    mine, members, peers = (make_ticket_for(a).id for a in ("tm_alead", "tm_amember", "tm_apeer"))
    lead_sees = set(db.session.execute(scope_tickets(select(Ticket.id), actor_for("tm_alead"))).scalars())
    assert {mine, members} <= lead_sees and peers not in lead_sees
    assert tickets.get(members, actor_for("tm_alead")).id == members
    with pytest.raises(NotFound):
        tickets.get(peers, actor_for("tm_alead"))
    # The member sees their own ticket, not the lead's (the queue rule covers unassigned ones only).
    with pytest.raises(NotFound):
        tickets.get(mine, actor_for("tm_amember"))
    assert tickets.get(members, actor_for("tm_amember")).id == members


def test_agents_department_queue_rule_is_kept(ctx, org):
    ticket = make_ticket_for("tm_apeer")
    ticket.assignee_id = None  # back in the department's queue
    db.session.commit()
    for agent in ("tm_alead", "tm_amember", "tm_apeer"):
        assert tickets.get(ticket.id, actor_for(agent)).id == ticket.id
    with pytest.raises(NotFound):
        tickets.get(ticket.id, actor_for("agent1"))  # another department's agent


def test_team_lead_sees_members_care_tasks(ctx, org):
    tasks = {u: make_care_task_for(u).id for u in ("tm_lead", "tm_member", "tm_peer")}

    def care_seen(who: str) -> set[int]:
        return set(db.session.execute(scope_care_tasks(select(CareTask.id), actor_for(who))).scalars())

    assert care_seen("tm_lead") == {tasks["tm_lead"], tasks["tm_member"]}
    assert care_seen("tm_member") == {tasks["tm_member"]}
    assert care_seen("tm_peer") == {tasks["tm_peer"]}
    assert set(tasks.values()) <= care_seen("manager")


def test_department_head_sees_the_subtree_not_a_sibling_department(ctx, org):
    people = ("tm_head", "tm_lead", "tm_member", "tm_peer", "tm_floater", "tm_child", "tm_sibling")
    own = {u: make_customer_for(u).id for u in people}
    head_sees = customers_seen("tm_head")
    # Own department (team or not), a team of the department (tm_floater has no department of their
    # own), and the sub-department tm-east-1.
    assert head_sees == {own[u] for u in people if u != "tm_sibling"}
    lead_rows = {u: make_lead_for(u).id for u in ("tm_child", "tm_sibling")}
    assert sales_seen(Lead, "tm_head") == {lead_rows["tm_child"]}
    assert customers_seen("tm_sibling") == {own["tm_sibling"]}
    # A head's reach also lists the departments whose unassigned ticket queue they see.
    assert reach(actor_for("tm_head")).department_ids == {org.east, org.east_1}


def test_a_deeper_subtree_and_a_moved_parent(ctx, org):
    boss = actor_for("manager")
    # tm-west under tm-east-1: the head of tm-east now reaches it too (two levels down).
    teams.update_department(org.west, {"parent_id": org.east_1}, boss)
    sibling = make_customer_for("tm_sibling").id
    assert sibling in customers_seen("tm_head")
    teams.update_department(org.west, {"parent_id": None}, boss)
    assert sibling not in customers_seen("tm_head")


def test_moving_a_user_changes_visibility_at_once(ctx, org):
    boss = actor_for("manager")
    peer, member = make_customer_for("tm_peer").id, make_customer_for("tm_member").id
    assert peer not in customers_seen("tm_lead")
    teams.move_user(uid("tm_peer"), org.team_a, boss)
    assert peer in customers_seen("tm_lead")
    teams.move_user(uid("tm_member"), None, boss)
    assert member not in customers_seen("tm_lead")
    # A new lead sees the team; the old lead goes back to own records.
    teams.update_team(org.team_a, {"lead_user_id": uid("tm_peer")}, boss)
    assert customers_seen("tm_peer") >= {peer} and make_customer_for("tm_lead").id in customers_seen("tm_peer")


def test_plain_users_reach_is_only_themselves(ctx, org):
    assert reach(actor_for("tm_member")).user_ids == {uid("tm_member")}
    assert not reach(actor_for("tm_member")).beyond_self
    assert reach(actor_for("tm_lead")).user_ids == {uid("tm_lead"), uid("tm_member")}
