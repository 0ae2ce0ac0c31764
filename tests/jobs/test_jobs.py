"""Scheduled jobs: one runner at a time through the lease, every run recorded, CLI list/run."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text

from app.extensions import db
from app.models.job import JobLease, JobRun
from app.services import jobs
from tests.factories import make_customer


def test_run_records_success_with_counts(ctx, actor):
    make_customer(actor("clerk1"))  # writes one audit entry
    run = jobs.execute("audit_verify", trigger="manual")
    assert run.status == "success"
    assert '"verified": 1' in run.counts
    assert run.finished_at is not None


def test_second_runner_is_skipped_while_lease_is_held(ctx):
    now = dt.datetime(2026, 11, 26, 2, 30)
    job = jobs.get("audit_verify")
    assert jobs._acquire(job, "worker-a", now)
    skipped = jobs.execute("audit_verify", now=now + dt.timedelta(minutes=1), holder="worker-b")
    assert skipped.status == "skipped"
    assert db.session.get(JobLease, "audit_verify").holder == "worker-a"


def test_expired_lease_can_be_taken_over(ctx):
    now = dt.datetime(2026, 11, 26, 2, 30)
    job = jobs.get("audit_verify")
    assert jobs._acquire(job, "crashed-worker", now)
    later = now + dt.timedelta(seconds=job.lease_seconds + 1)
    run = jobs.execute("audit_verify", now=later, holder="worker-b")
    assert run.status == "success"
    assert db.session.get(JobLease, "audit_verify").holder is None  # released after the run


def test_failed_job_is_recorded_not_lost(ctx, actor):
    make_customer(actor("clerk1"))
    db.session.execute(text("UPDATE audit_log SET changes = 'tampered'"))
    db.session.commit()
    run = jobs.execute("audit_verify")
    assert run.status == "failed"
    assert "AuditChainBroken" in run.error
    assert db.session.execute(select(JobRun.status)).scalars().all() == ["failed"]


def test_cli_jobs_run_and_list(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "jobs", "run", "audit_verify"])
    assert result.exit_code == 0, result.output
    assert "audit_verify: success" in result.output
    listing = runner.invoke(args=["crm", "jobs", "list"])
    assert listing.exit_code == 0
    line = next(x for x in listing.output.splitlines() if x.startswith("audit_verify"))
    assert "success" in line
    unknown = runner.invoke(args=["crm", "jobs", "run", "no_such_job"])
    assert unknown.exit_code == 2
