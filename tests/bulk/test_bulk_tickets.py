"""Bulk reassignment of tickets goes through `tickets.assign` (its department rule skips records)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.ticket import Ticket
from app.services import bulk
from tests.bulk.conftest import user_id
from tests.conftest import actor_for
from tests.tickets.conftest import new_ticket


def test_ticket_reassign_skips_what_the_ticket_rules_refuse(ctx):
    ids = [new_ticket("agent1").id for _ in range(3)]
    manager = actor_for("manager")
    assert bulk.count("tickets", [], manager) == 3
    # agent2 is not an agent of these tickets' department: every ticket is skipped with the reason.
    job = bulk.run(bulk.start("tickets", "reassign", {"assignee_id": user_id("agent2")}, [], manager).id)
    assert (job.total, job.done, job.skipped) == (3, 0, 3)
    assert all(r["reason"] for r in bulk.report_rows(job))
    assert user_id("agent2") not in set(db.session.execute(select(Ticket.assignee_id)).scalars())
    dept = {t.department_id for t in db.session.execute(select(Ticket).where(Ticket.id.in_(ids))).scalars()}
    assert len(dept) == 1


def test_ticket_bulk_page_for_managers_only(app, as_user):
    with app.app_context():
        new_ticket("agent1")
    assert as_user("manager").get("/ticket-list/bulk/").status_code == 200
    agent = as_user("agent1")
    page = agent.get("/ticket-list/bulk/")
    # Agents may change tickets but not reassign them: the page offers nothing they can run.
    assert page.status_code in (200, 403)
    if page.status_code == 200:
        assert agent.post("/ticket-list/bulk/", data={"action": "reassign", "assignee_id": "1",
                                                      "confirm": "1"}).status_code == 403
