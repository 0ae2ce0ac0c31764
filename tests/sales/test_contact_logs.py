"""Contact logs on a lead, an opportunity or a customer; a next contact date is a follow-up task."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.care import CareTask
from app.services import care, contact_logs
from app.services.errors import Invalid, NotFound
from tests.factories import make_customer
from tests.sales.conftest import make_lead, make_opportunity

TODAY = dt.date(2026, 3, 10)


def test_a_call_on_a_lead_with_a_next_date_creates_a_follow_up_in_my_agenda(ctx, actor):
    lead = make_lead(source="social", interest="")
    log = contact_logs.create({"lead_id": lead.id, "method": "phone", "content": "Asked about 5G",
                               "feedback": "Interested", "next_step": "send brochure",
                               "next_contact_date": "2026-03-12"}, actor("sales1"), today=TODAY)
    task = db.session.get(CareTask, log.follow_up_task_id)
    assert (task.source_type, task.source_id, task.customer_id, task.rule_id) == ("lead", lead.id, None, None)
    assert task.assignee_id == actor("sales1").id and task.due_date == dt.date(2026, 3, 12)
    assert "send brochure" in task.title
    week = care.agenda(actor("sales1"), "week", TODAY)
    assert [t.id for t in week] == [task.id]
    assert care.reason(task) == task.title
    assert lead.status == "contacted"
    # The task can be worked like any other: completing it closes it.
    assert care.complete(task.id, "reached", "sent", actor("sales1"), today=dt.date(2026, 3, 12)).status == "done"


def test_an_opportunity_log_belongs_to_its_customer_too(ctx, actor):
    opp = make_opportunity()
    log = contact_logs.create({"opportunity_id": opp.id, "method": "wechat", "content": "Sent comparison",
                               "next_contact_date": TODAY.isoformat()}, actor("sales1"), today=TODAY)
    assert log.customer_id == opp.customer_id
    task = db.session.get(CareTask, log.follow_up_task_id)
    assert (task.source_type, task.customer_id) == ("opportunity", opp.customer_id)
    assert contact_logs.for_target(actor("sales1"), customer_id=opp.customer_id) == [log]


def test_a_log_without_next_date_creates_no_task(ctx, actor):
    customer = make_customer(actor("sales1"))
    contact_logs.create({"customer_id": customer.id, "method": "email", "content": "Bill question"},
                        actor("sales1"), today=TODAY)
    assert db.session.execute(select(CareTask)).first() is None


def test_bad_input_names_the_field(ctx, actor):
    lead = make_lead()
    with pytest.raises(Invalid) as exc:
        contact_logs.create({"lead_id": lead.id, "method": "pigeon", "content": " ",
                             "next_contact_date": "2026-03-01"}, actor("sales1"), today=TODAY)
    assert set(exc.value.errors) == {"method", "content", "next_contact_date"}
    with pytest.raises(Invalid) as exc:
        contact_logs.create({"method": "phone", "content": "x"}, actor("sales1"), today=TODAY)
    assert "lead_id" in exc.value.errors


def test_only_own_records(ctx, actor):
    lead = make_lead("sales1")
    with pytest.raises(Invalid) as exc:
        contact_logs.create({"lead_id": lead.id, "method": "phone", "content": "x"}, actor("sales2"), today=TODAY)
    assert "lead_id" in exc.value.errors
    log = contact_logs.create({"lead_id": lead.id, "method": "phone", "content": "x"}, actor("sales1"), today=TODAY)
    with pytest.raises(NotFound):
        contact_logs.update(log.id, {"content": "y"}, actor("sales2"))
    assert contact_logs.update(log.id, {"content": "y"}, actor("manager")).content == "y"
