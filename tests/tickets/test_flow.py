"""Tickets through the service: routing, least-loaded assignment, status machine, transfer, complaints."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.ticket import Ticket, TicketDepartmentTime, TicketEvent, TicketRoutingRule, TicketTransfer
from app.services import ticket_routing, tickets
from app.services.errors import Forbidden, Invalid, NotFound
from tests.conftest import actor_for
from tests.tickets.conftest import T0, customer_with_line, dept, new_ticket, user_id

H = dt.timedelta(hours=1)


def test_fault_goes_to_technical_and_to_its_agent(ctx):
    t = new_ticket(ticket_type="fault", subject="手机无法拨打电话", description="昨天开始")
    assert t.department_id == dept("technical")
    assert t.assignee_id == user_id("agent2")
    assert t.status == "assigned"
    assert t.ticket_no.startswith("T20260302")


def test_keywords_route_and_raise_priority(ctx):
    t = new_ticket(ticket_type="consultation", subject="家里宽带断网", priority="low")
    assert t.department_id == dept("technical")
    assert t.priority == "high"  # the rule's priority is a floor
    urgent = new_ticket(ticket_type="complaint", subject="再不解决就向工信部投诉", priority="normal")
    assert urgent.department_id == dept("customer-service")
    assert urgent.priority == "urgent"


def test_requested_higher_priority_is_kept(ctx):
    t = new_ticket(ticket_type="complaint", subject="营业厅态度差", priority="urgent")
    assert t.priority == "urgent"


def test_no_rule_matches_goes_to_customer_service(ctx):
    t = new_ticket(ticket_type="consultation", subject="怎么查询积分")
    assert t.department_id == dept("customer-service")
    assert t.assignee_id == user_id("agent1")


def test_manager_edited_rule_changes_routing(ctx):
    rule = TicketRoutingRule(code="plan-billing", name="plan changes to billing", position=1,
                             ticket_type="plan_change", department_id=dept("billing"), priority=None)
    db.session.add(rule)
    db.session.commit()
    t = new_ticket(ticket_type="plan_change", subject="想换套餐")
    assert t.department_id == dept("billing")
    assert t.assignee_id is None and t.status == "new"  # nobody in billing: stays in the queue


def test_least_loaded_agent_gets_the_next_ticket(ctx):
    from app.services import setup

    if setup.appbuilder.sm.find_user(username="agent3") is None:
        setup.create_user("agent3", "test-pass-2026", "Agent", department="customer-service")
    a1, a3 = user_id("agent1"), user_id("agent3")
    try:
        first = new_ticket(at=T0)
        second = new_ticket(at=T0 + H)
        assert {first.assignee_id, second.assignee_id} == {a1, a3}  # one each
        third = new_ticket(at=T0 + 2 * H)
        # equal loads → the one whose last assignment is oldest (round-robin)
        assert third.assignee_id == first.assignee_id
        # agent with fewer open tickets wins: resolve two of the first assignee's tickets
        owner = actor_for("agent1" if first.assignee_id == a1 else "agent3")
        for t in (first, third):
            tickets.take(t.id, owner, at=T0 + 3 * H)
            tickets.resolve(t.id, {"resolution": "已解答"}, owner, at=T0 + 3 * H)
        fourth = new_ticket(at=T0 + 4 * H)
        assert fourth.assignee_id == first.assignee_id
        assert ticket_routing.loads([a1, a3])[second.assignee_id] == 1
    finally:
        user = setup.appbuilder.sm.find_user(username="agent3")
        user.active = False  # keep the other tests' single-agent departments
        db.session.commit()


def test_inactive_agent_is_not_chosen(ctx):
    from app.services import setup

    user = setup.appbuilder.sm.find_user(username="agent1")
    user.active = False
    db.session.commit()
    try:
        t = new_ticket()
        assert t.assignee_id is None and t.status == "new"
    finally:
        user.active = True
        db.session.commit()


def test_status_machine_legal_and_illegal(ctx):
    a1 = actor_for("agent1")
    t = new_ticket()
    with pytest.raises(Invalid) as err:
        tickets.resolve(t.id, {"resolution": "x"}, a1)  # assigned → resolved is not allowed
    assert "status" in err.value.errors
    with pytest.raises(Invalid):
        tickets.close(t.id, a1)
    tickets.take(t.id, a1, at=T0 + H)
    tickets.wait_for_customer(t.id, "请提供截图", a1, at=T0 + 2 * H)
    assert db.session.get(Ticket, t.id).status == "waiting_customer"
    tickets.add_note(t.id, "截图已收到", a1, kind="customer_reply", at=T0 + 3 * H)
    assert db.session.get(Ticket, t.id).status == "in_progress"
    tickets.resolve(t.id, {"resolution": "已解答"}, a1, at=T0 + 4 * H)
    with pytest.raises(Invalid):
        tickets.take(t.id, a1)
    tickets.close(t.id, a1, at=T0 + 5 * H)
    with pytest.raises(Invalid):
        tickets.close(t.id, a1)
    with pytest.raises(Invalid) as err:
        tickets.reopen(t.id, "", a1)
    assert "reason" in err.value.errors
    tickets.reopen(t.id, "客户反馈问题仍在", a1, at=T0 + 6 * H)
    t = db.session.get(Ticket, t.id)
    assert (t.status, t.reopen_count, t.resolved_at, t.closed_at) == ("reopened", 1, None, None)
    statuses = [(e.from_status, e.to_status) for e in db.session.execute(
        select(TicketEvent).where(TicketEvent.ticket_id == t.id, TicketEvent.kind == "status")
        .order_by(TicketEvent.id)).scalars()]
    assert statuses == [("new", "assigned"), ("assigned", "in_progress"), ("in_progress", "waiting_customer"),
                        ("waiting_customer", "in_progress"), ("in_progress", "resolved"), ("resolved", "closed"),
                        ("closed", "reopened")]
    assert all(new in tickets.TRANSITIONS[old] for old, new in statuses)


def test_transition_table_rejects_everything_not_listed(ctx):
    for old in tickets.TRANSITIONS:
        for new, _label in tickets.STATUS_CHOICES:
            assert tickets.allowed(old, new) == (new in tickets.TRANSITIONS[old])
    assert not tickets.allowed("closed", "resolved")
    assert not tickets.allowed("new", "resolved")


def test_complaint_needs_process_and_result(ctx):
    a1 = actor_for("agent1")
    t = new_ticket(ticket_type="complaint", subject="多扣了话费")
    tickets.take(t.id, a1, at=T0 + H)
    with pytest.raises(Invalid) as err:
        tickets.resolve(t.id, {"resolution": "已退费"}, a1)
    assert set(err.value.errors) == {"complaint_process", "complaint_result"}
    with pytest.raises(Invalid) as err:
        tickets.resolve(t.id, {"resolution": "已退费", "complaint_process": "核查计费记录"}, a1)
    assert set(err.value.errors) == {"complaint_result"}
    assert db.session.get(Ticket, t.id).status == "in_progress"
    tickets.resolve(t.id, {"resolution": "已退费", "complaint_process": "核查计费记录",
                           "complaint_result": "退还10元，客户认可"}, a1, at=T0 + 2 * H)
    t = db.session.get(Ticket, t.id)
    assert (t.status, t.complaint_result) == ("resolved", "退还10元，客户认可")


def test_transfer_keeps_context_and_time_per_department(ctx):
    a1, a2 = actor_for("agent1"), actor_for("agent2")
    customer, line = customer_with_line()
    t = new_ticket(ticket_type="complaint", subject="网速很差还扣费", description="客户说晚上网速只有1M",
                   customer_id=customer.id, subscription_id=line.id)
    assert t.department_id == dept("customer-service")
    tickets.take(t.id, a1, at=T0 + H)
    tickets.add_note(t.id, "已确认客户所在小区基站", a1, at=T0 + 2 * H)
    with pytest.raises(Invalid) as err:
        tickets.transfer(t.id, dept("technical"), "  ", a1)
    assert "note" in err.value.errors
    with pytest.raises(Invalid) as err:
        tickets.transfer(t.id, dept("customer-service"), "x", a1)
    assert "department" in err.value.errors
    tickets.transfer(t.id, dept("technical"), "客户晚间网速慢，已查账单无误，请技术排查基站", a1, at=T0 + 3 * H)
    t = db.session.get(Ticket, t.id)
    assert (t.department_id, t.status, t.assignee_id, t.transfer_count) == (
        dept("technical"), "transferred", user_id("agent2"), 1)
    assert (t.customer_id, t.subscription_id, t.description) == (customer.id, line.id, "客户说晚上网速只有1M")
    # agent1 no longer sees it; agent2 sees the whole history, including agent1's note
    with pytest.raises(NotFound):
        tickets.get(t.id, a1)
    bodies = [e.body for e in tickets.timeline(tickets.get(t.id, a2))]
    assert "已确认客户所在小区基站" in bodies and "客户晚间网速慢，已查账单无误，请技术排查基站" in bodies
    moved = db.session.execute(select(TicketTransfer).where(TicketTransfer.ticket_id == t.id)).scalar_one()
    assert (moved.from_department_id, moved.to_department_id) == (dept("customer-service"), dept("technical"))
    tickets.take(t.id, a2, at=T0 + 4 * H)
    tickets.resolve(t.id, {"resolution": "基站扩容", "complaint_process": "技术排查基站负载",
                           "complaint_result": "扩容后网速恢复"}, a2, at=T0 + 8 * H)
    stays = db.session.execute(select(TicketDepartmentTime).where(TicketDepartmentTime.ticket_id == t.id)
                               .order_by(TicketDepartmentTime.id)).scalars().all()
    assert [(s.department_id, s.seconds) for s in stays] == [
        (dept("customer-service"), 3 * 3600), (dept("technical"), 5 * 3600)]
    per_dept = {row["department"].code: row["seconds"] for row in tickets.department_times(t)}
    assert per_dept == {"customer-service": 3 * 3600, "technical": 5 * 3600}


def test_agent_cannot_work_someone_elses_ticket(ctx):
    t = new_ticket()  # assigned to agent1
    with pytest.raises(NotFound):
        tickets.take(t.id, actor_for("agent2"))
    with pytest.raises(NotFound):
        tickets.add_note(t.id, "x", actor_for("agent2"))
    with pytest.raises(NotFound):
        tickets.get(t.id, actor_for("sales1"))


def test_manager_override_assignment(ctx):
    t = new_ticket(ticket_type="fault", subject="无法上网")
    with pytest.raises(Forbidden):
        tickets.assign(t.id, user_id("agent2"), actor_for("agent2"))
    with pytest.raises(Invalid) as err:
        tickets.assign(t.id, user_id("agent1"), actor_for("manager"))  # agent1 is not in technical
    assert "assignee" in err.value.errors
    tickets.take(t.id, actor_for("agent2"), at=T0 + H)
    from app.services import setup

    if setup.appbuilder.sm.find_user(username="agent4") is None:
        setup.create_user("agent4", "test-pass-2026", "Agent", department="technical")
    a4 = setup.appbuilder.sm.find_user(username="agent4")
    a4.active = True
    db.session.commit()
    try:
        tickets.assign(t.id, a4.id, actor_for("manager"), at=T0 + 2 * H)
        t = db.session.get(Ticket, t.id)
        assert (t.assignee_id, t.status) == (a4.id, "assigned")
        with pytest.raises(NotFound):
            tickets.get(t.id, actor_for("agent2"))
    finally:
        a4.active = False
        db.session.commit()


def test_subscription_must_belong_to_the_customer(ctx):
    other, line = customer_with_line()
    customer, _ = customer_with_line()
    with pytest.raises(Invalid) as err:
        new_ticket(customer_id=customer.id, subscription_id=line.id)
    assert set(err.value.errors) == {"subscription"}
    assert db.session.execute(select(Ticket)).first() is None


def test_invalid_create_names_fields(ctx):
    with pytest.raises(Invalid) as err:
        tickets.create({"channel": "fax", "ticket_type": "x", "customer_id": 999999}, actor_for("agent1"))
    assert set(err.value.errors) >= {"channel", "ticket_type", "subject", "customer"}


def test_take_from_department_queue(ctx):
    from app.services import setup

    user = setup.appbuilder.sm.find_user(username="agent2")
    user.active = False
    db.session.commit()
    try:
        t = new_ticket(ticket_type="fault", subject="无信号")
    finally:
        user.active = True
        db.session.commit()
    assert t.assignee_id is None
    assert [x.id for x in tickets.queue(actor_for("agent2"), "unassigned")] == [t.id]
    assert tickets.queue(actor_for("agent1"), "unassigned") == []
    tickets.take(t.id, actor_for("agent2"), at=T0 + H)
    t = db.session.get(Ticket, t.id)
    assert (t.assignee_id, t.status, t.first_response_at) == (user_id("agent2"), "in_progress", T0 + H)


def test_two_agents_taking_the_same_ticket_conflict_not_crash(app, ctx):
    """agent2 and a manager both open the unassigned ticket; the second take is refused cleanly."""
    from app.services import setup
    from app.services.errors import Conflict

    user = setup.appbuilder.sm.find_user(username="agent2")
    user.active = False
    db.session.commit()
    try:
        t = new_ticket(ticket_type="fault", subject="无信号")
    finally:
        user.active = True
        db.session.commit()
    tid = t.id
    # a second session loads the ticket before the first take commits
    from sqlalchemy.orm import Session

    with Session(db.engine) as other:
        stale = other.get(Ticket, tid)
        tickets.take(tid, actor_for("agent2"), at=T0 + H)
        stale.assignee_id = user_id("manager")
        stale.status = "in_progress"
        from sqlalchemy.orm.exc import StaleDataError

        with pytest.raises(StaleDataError):
            other.commit()
    # and through the service: a stale expected version is a Conflict
    with pytest.raises(Conflict):
        tickets.transition(tid, {"status": "waiting_customer", "version": 1}, actor_for("agent2"))
    assert db.session.get(Ticket, tid).assignee_id == user_id("agent2")
