"""Bulk actions at the service layer: the filtered set (not a page), row rules, skips, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.base import utcnow
from app.models.bulk_job import BulkJob
from app.models.care import CareTask
from app.models.customer import Customer
from app.models.lead import Lead
from app.models.tag import Tag, customer_tag
from app.services import bulk
from app.services.care import business_date
from app.services.errors import Forbidden, Invalid
from tests.bulk.conftest import city_filter, make_customers, user_id
from tests.conftest import actor_for
from tests.sales.conftest import make_lead


def _statuses(ids: list[int]) -> set[str]:
    return set(db.session.execute(select(Customer.status).where(Customer.id.in_(ids))).scalars())


def test_status_change_over_a_filter_larger_than_a_page_changes_every_match(ctx):
    ctx.config["CRM_BULK_BATCH"] = 7  # several batches for 30 rows
    try:
        hz = make_customers(30, "杭州")
        bj = make_customers(5, "北京")
        manager = actor_for("manager")
        preview = bulk.preview("customers", city_filter("杭州"), manager)
        assert preview.count == 30 and len(preview.sample) == 10
        job = bulk.start("customers", "status", {"status": "suspended"}, city_filter("杭州"), manager)
        assert job.total == preview.count
        job = bulk.run(job.id, manager)
    finally:
        ctx.config.pop("CRM_BULK_BATCH")
    assert (job.status, job.done, job.skipped, job.failed) == ("done", 30, 0, 0)
    assert _statuses(hz) == {"suspended"} and _statuses(bj) == {"active"}
    entries = db.session.execute(select(AuditLog).where(
        AuditLog.entity == "customer", AuditLog.action == "update", AuditLog.changes.contains('"bulk_job"'))).scalars()
    assert sorted(int(e.entity_id) for e in entries) == sorted(hz)  # one audit entry per changed record


def test_count_preview_equals_the_records_changed_with_two_filters(ctx):
    make_customers(4, "杭州", segment="potential")
    make_customers(6, "杭州")
    from app.models.customer import Customer as C
    from tests.bulk.conftest import flt_index

    flts = city_filter("杭州") + [["segment", flt_index(C, "segment", "eq"), ["potential"]]]
    manager = actor_for("manager")
    assert bulk.count("customers", flts, manager) == 4
    job = bulk.run(bulk.start("customers", "segment", {"segment": "high_value"}, flts, manager).id)
    assert job.total == 4 and job.done == 4
    assert db.session.execute(select(func.count()).where(C.segment == "high_value")).scalar() == 4


def test_sales_cannot_reassign_and_no_job_is_recorded(ctx):
    make_customers(3, "杭州")
    with pytest.raises(Forbidden):
        bulk.start("customers", "reassign", {"owner_id": user_id("sales2")}, city_filter("杭州"), actor_for("sales1"))
    assert db.session.execute(select(func.count()).select_from(BulkJob)).scalar() == 0


def test_manager_reassigns_the_filtered_set(ctx):
    ids = make_customers(12, "杭州")
    manager = actor_for("manager")
    job = bulk.run(bulk.start("customers", "reassign", {"owner_id": user_id("sales2")}, city_filter("杭州"),
                              manager).id)
    assert job.done == 12
    owners = set(db.session.execute(select(Customer.owner_id).where(Customer.id.in_(ids))).scalars())
    assert owners == {user_id("sales2")}


def test_sales_acts_only_on_their_own_rows(ctx):
    mine = make_customers(10, "杭州", owner="sales1")
    theirs = make_customers(5, "杭州", owner="sales2")
    sales1 = actor_for("sales1")
    assert bulk.count("customers", city_filter("杭州"), sales1) == 10
    job = bulk.run(bulk.start("customers", "status", {"status": "suspended"}, city_filter("杭州"), sales1).id)
    assert (job.total, job.done) == (10, 10)
    assert _statuses(mine) == {"suspended"} and _statuses(theirs) == {"active"}


def test_records_that_already_have_the_value_are_skipped_and_reported(ctx):
    ids = make_customers(5, "杭州")
    manager = actor_for("manager")
    first = bulk.run(bulk.start("customers", "tag", {"tag": "VIP"}, city_filter("杭州")[:0] + city_filter("杭州"),
                                manager).id)
    assert first.done == 5
    more = make_customers(3, "杭州")
    second = bulk.run(bulk.start("customers", "tag", {"tag": " VIP "}, city_filter("杭州"), manager).id)
    assert (second.total, second.done, second.skipped) == (8, 3, 5)
    assert sorted(r["id"] for r in bulk.report_rows(second)) == sorted(ids)
    tag_id = db.session.execute(select(Tag.id).where(Tag.name == "VIP")).scalar_one()
    tagged = set(db.session.execute(select(customer_tag.c.customer_id).where(customer_tag.c.tag_id == tag_id))
                 .scalars())
    assert tagged == set(ids + more)


def test_records_the_user_may_not_edit_are_skipped(ctx, monkeypatch):
    ids = make_customers(6, "杭州")
    manager = actor_for("manager")
    # A narrower edit rule than the visibility rule (as a team hierarchy may add): only even ids.
    target = bulk.TARGETS["customers"]
    narrower = bulk.Target(target.name, target.label, target.model_path, target.scope,
                           lambda stmt, actor: stmt.filter(Customer.id % 2 == 0), target.actions)
    monkeypatch.setitem(bulk.TARGETS, "customers", narrower)
    job = bulk.run(bulk.start("customers", "status", {"status": "closed"}, city_filter("杭州"), manager).id)
    even = [i for i in ids if i % 2 == 0]
    assert (job.done, job.skipped) == (len(even), len(ids) - len(even))
    assert _statuses(even) == {"closed"} and _statuses([i for i in ids if i % 2]) == {"active"}


def test_invalid_parameters_name_the_field_and_write_nothing(ctx):
    make_customers(2, "杭州")
    manager = actor_for("manager")
    with pytest.raises(Invalid) as exc:
        bulk.start("customers", "status", {"status": "bogus"}, city_filter("杭州"), manager)
    assert "status" in exc.value.errors
    with pytest.raises(Invalid) as exc:
        bulk.start("customers", "follow_up", {"title": "", "due_date": "2020-01-01"}, city_filter("杭州"), manager)
    assert "title" in exc.value.errors
    with pytest.raises(Invalid) as exc:
        bulk.start("customers", "nope", {}, city_filter("杭州"), manager)
    assert "action" in exc.value.errors
    assert db.session.execute(select(func.count()).select_from(BulkJob)).scalar() == 0


def test_follow_up_tasks_go_to_each_owner_and_skip_closed_accounts(ctx):
    open_ids = make_customers(4, "杭州", owner="sales2")
    closed = make_customers(1, "杭州", owner="sales2", status="closed")
    due = business_date(utcnow()) + dt.timedelta(days=3)
    job = bulk.run(bulk.start("customers", "follow_up", {"title": "Renewal call", "due_date": due.isoformat()},
                              city_filter("杭州"), actor_for("manager")).id)
    assert (job.done, job.skipped) == (4, 1)
    tasks = db.session.execute(select(CareTask)).scalars().all()
    assert sorted(t.customer_id for t in tasks) == sorted(open_ids)
    assert {t.assignee_id for t in tasks} == {user_id("sales2")} and {t.due_date for t in tasks} == {due}
    assert closed[0] not in {t.customer_id for t in tasks}


def test_lead_status_goes_through_the_lead_rules(ctx):
    fresh = [make_lead("sales1", city="杭州").id for _ in range(3)]
    disq = make_lead("sales1", city="杭州")
    from app.services import leads

    leads.set_status(disq.id, "disqualified", "no budget", actor_for("sales1"))
    from tests.bulk.conftest import flt_index

    flts = [["city", flt_index(Lead, "city", "eq"), ["杭州"]]]
    job = bulk.run(bulk.start("leads", "status", {"lead_status": "qualified"}, flts, actor_for("sales1")).id)
    assert (job.total, job.done, job.skipped) == (4, 3, 1)  # disqualified → qualified is not a move
    statuses = dict(db.session.execute(select(Lead.id, Lead.status)).all())
    assert all(statuses[i] == "qualified" for i in fresh) and statuses[disq.id] == "disqualified"
    with pytest.raises(Forbidden):
        bulk.start("leads", "reassign", {"owner_id": user_id("sales2")}, flts, actor_for("sales1"))


def test_a_queued_job_is_resumed_by_the_polling_job(ctx):
    make_customers(3, "杭州")
    job = bulk.start("customers", "segment", {"segment": "potential"}, city_filter("杭州"), actor_for("clerk1"))
    from app.jobs import bulk_run

    assert bulk_run.run(utcnow())["resumed"] == 0  # just queued: its own thread is due to run it
    assert bulk_run.run(utcnow() + dt.timedelta(minutes=2))["resumed"] == 1
    db.session.refresh(job)
    assert (job.status, job.done) == ("done", 3)
    assert bulk.run(job.id).done == 3  # running it again does nothing


def test_a_large_job_runs_in_a_background_thread(ctx):
    make_customers(5, "杭州")
    job = bulk.start("customers", "segment", {"segment": "low_value"}, city_filter("杭州"), actor_for("manager"))
    from app.jobs import bulk_run

    bulk_run.start_background(job.id).join(30)
    db.session.expire_all()
    assert bulk.progress(db.session.get(BulkJob, job.id)) | {"id": 0} == {
        "id": 0, "status": "done", "total": 5, "done": 5, "skipped": 0, "failed": 0, "processed": 5, "percent": 100,
        "finished": True}
