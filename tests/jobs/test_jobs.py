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
    entries = db.session.execute(text("SELECT count(*) FROM audit_log")).scalar()
    run = jobs.execute("audit_verify", trigger="manual")
    assert run.status == "success"
    assert f'"verified": {entries}' in run.counts
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


def test_paused_job_skips_scheduled_runs_but_not_manual_ones(ctx, actor):
    jobs.set_paused("audit_verify", True, actor("admin2"))
    assert jobs.execute("audit_verify", trigger="schedule").status == "skipped"
    assert jobs.execute("audit_verify", trigger="manual").status == "success"
    jobs.set_paused("audit_verify", False, actor("admin2"))
    assert jobs.execute("audit_verify", trigger="schedule").status == "success"


def test_job_admin_page_runs_pauses_and_is_admin_only(ctx, as_user):
    import time

    client = as_user("admin2")
    page = client.get("/jobs/")
    assert page.status_code == 200 and "audit_verify" in page.get_data(as_text=True)
    assert client.post("/jobs/audit_verify/run").status_code == 302
    for _ in range(300):  # the run happens beside the request (up to 30 s on a busy machine)
        db.session.expire_all()
        if db.session.execute(select(JobRun).where(JobRun.trigger == "manual")).first():
            break
        time.sleep(0.1)
    history = client.get("/jobs/?job=audit_verify").get_data(as_text=True)
    assert "手动" in history or "Manual" in history  # the manual run is listed
    client.post("/jobs/audit_verify/pause")
    assert jobs.is_paused("audit_verify")
    client.post("/jobs/audit_verify/resume")
    db.session.expire_all()
    assert not jobs.is_paused("audit_verify")
    assert client.post("/jobs/nope/run").status_code == 404
    for username in ("manager", "clerk1"):
        other = as_user(username)
        assert other.get("/jobs/").status_code in (302, 403)
        other.post("/jobs/audit_verify/pause")
    db.session.expire_all()
    assert not jobs.is_paused("audit_verify")
