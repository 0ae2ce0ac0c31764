"""SLA pages: the policy list/edit for managers, and the board scoped like the tickets."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.extensions import db
from app.models.sla import SlaPolicy
from app.services import sla
from tests.service_sla.conftest import new_ticket


def test_manager_edits_a_policy_on_the_page(ctx, as_user):
    client = as_user("manager")
    assert "SLA" in client.get("/sla-policies/list/").get_data(as_text=True)
    policy = db.session.execute(select(SlaPolicy).where(
        SlaPolicy.ticket_type == "consultation", SlaPolicy.priority == "low")).scalar_one()
    before = (policy.response_minutes, policy.resolve_minutes, policy.warn_percent)
    form = {"ticket_type": "consultation", "priority": "low", "response_minutes": "120",
            "resolve_minutes": "60", "warn_percent": "75", "version": str(policy.version)}
    try:
        bad = client.post(f"/sla-policies/edit/{policy.id}", data=form)
        assert bad.status_code == 200 and "alert-danger" in bad.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(SlaPolicy, policy.id).resolve_minutes == before[1]
        form["resolve_minutes"] = "600"
        assert client.post(f"/sla-policies/edit/{policy.id}", data=form).status_code == 302
        db.session.expire_all()
        saved = db.session.get(SlaPolicy, policy.id)
        assert (saved.response_minutes, saved.resolve_minutes, saved.warn_percent) == (120, 600, 75)
    finally:
        saved = db.session.get(SlaPolicy, policy.id)
        saved.response_minutes, saved.resolve_minutes, saved.warn_percent = before
        db.session.commit()


def test_agents_cannot_edit_policies(as_user):
    client = as_user("agent1")
    assert client.get("/sla-policies/list/").status_code in (302, 403)


def test_board_shows_breached_tickets_to_whoever_may_see_them(ctx, as_user):
    ticket = new_ticket(username="agent1")
    sla.check(ticket.created_at + dt.timedelta(days=30))
    board = as_user("manager").get("/sla/").get_data(as_text=True)
    assert ticket.ticket_no in board and f'href="/tickets/{ticket.id}"' in board
    assert ticket.ticket_no in as_user("agent1").get("/sla/").get_data(as_text=True)
    assert ticket.ticket_no not in as_user("agent2").get("/sla/").get_data(as_text=True)


def test_a_second_policy_for_the_same_type_and_priority_is_refused(ctx, as_user):
    client = as_user("manager")
    count = db.session.query(SlaPolicy).count()
    resp = client.post("/sla-policies/add", data={"ticket_type": "fault", "priority": "high",
                                                  "response_minutes": "10", "resolve_minutes": "100"})
    assert resp.status_code == 200 and "alert-danger" in resp.get_data(as_text=True)
    assert db.session.query(SlaPolicy).count() == count

