"""Launching: managers only, in batches with progress, resumable, and never contacting anyone twice."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models.campaign import CampaignContact, CampaignLaunch
from app.models.care import CareTask
from app.models.message import MessageTemplate, OutboxMessage
from app.services import campaigns, jobs
from app.services.errors import Forbidden, Invalid
from tests.campaigns.conftest import NOW, TODAY, customer, make_campaign
from tests.conftest import actor_for


def _count(model) -> int:  # noqa: ANN001
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def _launch(campaign_id: int, batch: int | None = None) -> CampaignLaunch:
    row = campaigns.launch(campaign_id, actor_for("manager"), today=TODAY)
    if batch:
        row.batch_size = batch
        db.session.commit()
    return row


def test_only_managers_launch(ctx):
    c = make_campaign()
    with pytest.raises(Forbidden):
        campaigns.launch(c.id, actor_for("sales1"), today=TODAY)
    with pytest.raises(Forbidden):
        campaigns.launch(c.id, actor_for("clerk1"), today=TODAY)
    _launch(c.id)
    with pytest.raises(Invalid) as exc:  # launching twice is refused
        _launch(c.id)
    assert "status" in exc.value.errors


def test_a_past_campaign_cannot_be_launched(ctx):
    c = make_campaign(start_date="2026-02-01", end_date="2026-02-28")
    with pytest.raises(Invalid) as exc:
        _launch(c.id)
    assert "end_date" in exc.value.errors


def test_launch_works_in_batches_with_progress_and_resumes(ctx):
    people = [customer(username="sales1" if i % 2 else "sales2") for i in range(5)]
    customer(consent=False)
    c = make_campaign()
    launch = _launch(c.id, batch=2)
    assert launch.status == "pending" and c.status == "launched"
    # First run stops after one batch (as if the process died or its time budget ran out).
    assert campaigns.process_launches(NOW, max_batches=1)["batches"] == 1
    db.session.expire_all()
    launch = campaigns.launch_of(c.id)
    assert (launch.status, launch.total, launch.processed, launch.batches) == ("running", 5, 2, 1)
    assert launch.cursor == people[1].id and launch.percent == 40
    assert _count(CampaignContact) == 2 and _count(CareTask) == 2
    # The next run resumes at the cursor and finishes.
    result = campaigns.process_launches(NOW)
    db.session.expire_all()
    launch = campaigns.launch_of(c.id)
    assert result["finished"] == 1 and launch.status == "done" and launch.processed == 5 and launch.batches == 3
    assert campaigns.get(c.id).status == "running"
    tasks = list(db.session.execute(select(CareTask).order_by(CareTask.customer_id)).scalars())
    assert [t.customer_id for t in tasks] == [p.id for p in people]
    # Call tasks go to the customer's owner, due from the campaign's start (today here), with the offer.
    assert {t.assignee_id for t in tasks} == {actor_for("sales1").id, actor_for("sales2").id}
    assert all(t.assignee_id == p.owner_id for t, p in zip(tasks, people, strict=True))
    assert tasks[0].due_date == TODAY and tasks[0].source_type == "campaign" and tasks[0].source_id == c.id
    assert "Double data" in tasks[0].title and tasks[0].rule_id is None


def test_rerunning_a_launch_creates_no_duplicates(ctx):
    for _ in range(4):
        customer()
    c = make_campaign()
    _launch(c.id, batch=3)
    campaigns.process_launches(NOW)
    assert _count(CampaignContact) == 4 and _count(CareTask) == 4
    # Force the whole launch to run again from the start (a lost cursor, a restored backup…).
    launch = campaigns.launch_of(c.id)
    launch.status, launch.cursor = "running", 0
    db.session.commit()
    campaigns.process_launches(NOW + dt.timedelta(hours=1))
    assert _count(CampaignContact) == 4 and _count(CareTask) == 4
    # And through the job runner (lease + run record), nothing new either.
    run = jobs.execute("campaign_launch", trigger="manual", now=NOW + dt.timedelta(hours=2))
    assert run.status == "success"
    assert _count(CampaignContact) == 4


def test_a_campaign_starting_later_waits_for_its_start_date(ctx):
    customer()
    c = make_campaign(start_date="2026-03-20")
    _launch(c.id)
    assert campaigns.process_launches(NOW)["launches"] == 0
    assert _count(CampaignContact) == 0
    campaigns.process_launches(dt.datetime(2026, 3, 20, 1))
    assert _count(CampaignContact) == 1


def test_cancel_stops_the_launch_and_open_tasks(ctx):
    for _ in range(3):
        customer()
    c = make_campaign()
    _launch(c.id, batch=1)
    campaigns.process_launches(NOW, max_batches=1)
    campaigns.cancel(c.id, actor_for("manager"))
    campaigns.process_launches(NOW)
    db.session.expire_all()
    assert _count(CampaignContact) == 1
    assert campaigns.launch_of(c.id).status == "cancelled"
    assert [t.status for t in db.session.execute(select(CareTask)).scalars()] == ["cancelled"]


@pytest.fixture
def marketing_template(ctx):  # noqa: ANN001, ANN201
    tpl = MessageTemplate(code="spring_promo", language="zh", name="Spring", purpose="marketing", channels="sms",
                          body="{{ salutation }}，{{ campaign_name }}：{{ offer }}。回复TD退订", enabled=True)
    db.session.add(tpl)
    db.session.commit()
    yield tpl
    db.session.rollback()
    db.session.execute(delete(MessageTemplate).where(MessageTemplate.code == "spring_promo"))
    db.session.commit()


def test_message_campaign_queues_one_marketing_message_per_customer(ctx, marketing_template):
    yes = customer()
    customer(consent=False)
    c = make_campaign(channel="sms", template_code="spring_promo")
    _launch(c.id, batch=1)
    campaigns.process_launches(NOW)
    launch = campaigns.launch_of(c.id)
    launch.status, launch.cursor = "running", 0  # rerun from scratch: still one message
    db.session.commit()
    campaigns.process_launches(NOW)
    msgs = list(db.session.execute(select(OutboxMessage)).scalars())
    assert [(m.customer_id, m.status, m.purpose, m.channel, m.source) for m in msgs] == [
        (yes.id, "queued", "marketing", "sms", "campaign")]
    assert msgs[0].template_code == "spring_promo" and "春季" in msgs[0].context


def test_message_campaign_needs_an_enabled_template(ctx, marketing_template):
    marketing_template.enabled = False
    db.session.commit()
    c = make_campaign(channel="sms", template_code="spring_promo")
    with pytest.raises(Invalid) as exc:
        _launch(c.id)
    assert "template_code" in exc.value.errors
