"""A bulk job left "running" by a web process that died mid-way is finished by the `bulk_resume`
job from the batch after the last one that process committed: nothing is done twice, nothing is
left out, and a runner that is still alive is never taken over."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.jobs import bulk_run
from app.models.audit_log import AuditLog
from app.models.base import utcnow
from app.models.bulk_job import BulkJob
from app.models.tag import Tag, customer_tag
from app.services import bulk, tags
from tests.bulk.conftest import city_filter, make_customers
from tests.conftest import actor_for


@pytest.fixture
def small_batches(ctx, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setitem(ctx.config, "CRM_BULK_BATCH", 2)
    return ctx


def _tagged(name: str) -> set[int]:
    tag_id = db.session.execute(select(Tag.id).where(Tag.name == name)).scalar()
    return set(db.session.execute(select(customer_tag.c.customer_id).where(customer_tag.c.tag_id == tag_id))
               .scalars()) if tag_id else set()


def _tag_audits(job_id: int) -> list[int]:
    rows = db.session.execute(select(AuditLog).where(AuditLog.action == "tag")).scalars()
    return sorted(int(r.entity_id) for r in rows if json.loads(r.changes or "{}").get("bulk_job") == job_id)


def _died_after_first_batch(ids: list[int], heartbeat: dt.datetime) -> BulkJob:
    """A tagging job whose runner committed its first batch (ids[0:2]) and then died."""
    job = bulk.start("customers", "tag", {"tag": "回访"}, city_filter("杭州"), actor_for("clerk1"))
    tags.link(tags.get_or_create("回访").id, ids[:2])  # what the dead runner's first batch committed
    db.session.execute(update(BulkJob).where(BulkJob.id == job.id).values(
        status="running", started_at=heartbeat, last_id=ids[1], done=2))
    db.session.commit()
    return job


def test_a_job_whose_runner_died_is_finished_from_its_last_batch(small_batches):
    ids = sorted(make_customers(5, "杭州"))
    make_customers(2, "上海")
    job = _died_after_first_batch(ids, heartbeat=utcnow() - dt.timedelta(minutes=10))

    assert bulk_run.run(utcnow()) == {"resumed": 1, "taken_over": 1}

    db.session.expire_all()
    job = db.session.get(BulkJob, job.id)
    assert (job.status, job.total, job.done, job.skipped, job.failed) == ("done", 5, 5, 0, 0)
    assert bulk.progress(job)["percent"] == 100
    # Exactly the filtered customers carry the tag; the resumed run started after the last
    # committed batch, so the first two were not tagged (or audited) a second time.
    assert _tagged("回访") == set(ids)
    assert _tag_audits(job.id) == ids[2:]
    assert bulk_run.run(utcnow() + dt.timedelta(hours=1))["resumed"] == 0  # done jobs stay done


def test_a_running_job_with_a_fresh_heartbeat_is_left_to_its_runner(small_batches):
    ids = sorted(make_customers(3, "杭州"))
    job = _died_after_first_batch(ids, heartbeat=utcnow() - dt.timedelta(seconds=30))

    assert bulk_run.run(utcnow()) == {"resumed": 0, "taken_over": 0}
    db.session.expire_all()
    job = db.session.get(BulkJob, job.id)
    assert (job.status, job.done, job.last_id) == ("running", 2, ids[1])
    assert _tagged("回访") == set(ids[:2])
    # Once its heartbeat is older than the limit, it is taken over.
    later = utcnow() + bulk.stale_after() + dt.timedelta(minutes=1)
    assert bulk_run.run(later)["taken_over"] == 1
    assert _tagged("回访") == set(ids)


def test_a_runner_that_was_taken_over_writes_nothing_more(small_batches):
    ids = sorted(make_customers(4, "杭州"))
    job = bulk.start("customers", "status", {"status": "suspended"}, city_filter("杭州"), actor_for("clerk1"))
    old_runner = bulk._claim(job.id, BulkJob.status == "queued")  # noqa: SLF001 - a runner that stalls
    assert old_runner is not None
    # Its process is thought dead: another runner takes the job over and finishes it.
    finished = bulk.resume(job.id, utcnow() + dt.timedelta(seconds=1))
    assert finished is not None and (finished.status, finished.done) == ("done", 4)
    # The stalled runner wakes up: its next batch cannot take the job row any more.
    with pytest.raises(bulk._LeaseLost):  # noqa: SLF001
        old_runner.renew()
    old_runner.rollback()
    db.session.expire_all()
    job = db.session.get(BulkJob, job.id)
    assert (job.status, job.done, job.last_id) == ("done", 4, ids[-1])
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "bulk_done",
                                                     AuditLog.entity_id == str(job.id))).scalars().all()


def test_a_queued_job_is_not_taken_over_as_stalled(small_batches):
    make_customers(2, "杭州")
    job = bulk.start("customers", "segment", {"segment": "potential"}, city_filter("杭州"), actor_for("clerk1"))
    assert bulk.resume(job.id, utcnow() + dt.timedelta(hours=1)) is None
    db.session.refresh(job)
    assert job.status == "queued"
