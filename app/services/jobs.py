"""Running scheduled jobs exactly once at a time: a database lease, and a record of every run.

The lease is one row per job. Taking it is a single UPDATE (or INSERT for a job never run) that
succeeds only when the lease is free or expired, so two schedulers, or several web workers with
the embedded scheduler, never run the same job at the same moment.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.jobs import JOBS, JobSpec, get
from app.models.base import utcnow
from app.models.job import JobLease, JobRun
from app.services import audit
from app.services.actor import Actor
from app.services.errors import NotFound

RUNNER = f"{socket.gethostname()}:{os.getpid()}"


def _acquire(job: JobSpec, holder: str, now: dt.datetime) -> bool:
    expires = now + dt.timedelta(seconds=job.lease_seconds)
    taken = db.session.execute(
        update(JobLease)
        .where(JobLease.job_id == job.id, or_(JobLease.expires_at < now, JobLease.holder.is_(None)))
        .values(holder=holder, expires_at=expires)
    ).rowcount
    if taken:
        db.session.commit()
        return True
    if db.session.get(JobLease, job.id) is not None:
        db.session.rollback()
        return False
    try:
        db.session.add(JobLease(job_id=job.id, holder=holder, expires_at=expires))
        db.session.commit()
        return True
    except IntegrityError:  # another runner inserted it first
        db.session.rollback()
        return False


def _release(job: JobSpec, holder: str) -> None:
    db.session.execute(
        update(JobLease).where(and_(JobLease.job_id == job.id, JobLease.holder == holder))
        .values(holder=None, expires_at=utcnow())
    )
    db.session.commit()


def _callable(job: JobSpec) -> Any:
    module, func = job.func.split(":")
    return getattr(importlib.import_module(module), func)


def _skipped(job: JobSpec, trigger: str, holder: str, why: str) -> JobRun:
    run = JobRun(job_id=job.id, status="skipped", trigger=trigger, runner=holder, finished_at=utcnow(),
                 error=why, duration_ms=0)
    db.session.add(run)
    db.session.commit()
    return run


def _job(job_id: str) -> JobSpec:
    job = get(job_id)
    if job is None:
        raise NotFound(f"unknown job '{job_id}'")
    return job


def is_paused(job_id: str) -> bool:
    lease = db.session.get(JobLease, job_id)
    return bool(lease and lease.paused)


def set_paused(job_id: str, paused: bool, actor: Actor) -> None:
    """Pause or resume a job's scheduled runs (manual runs stay possible); audited."""
    job = _job(job_id)
    lease = db.session.get(JobLease, job.id)
    if lease is None:
        lease = JobLease(job_id=job.id, holder=None, expires_at=utcnow())
        db.session.add(lease)
    lease.paused = paused
    audit.record(actor, "update", "job", job.id, {"after": {"paused": paused}})
    db.session.commit()


def execute(job_id: str, trigger: str = "schedule", now: dt.datetime | None = None,
            holder: str | None = None) -> JobRun:
    """Run one job now under its lease; the outcome is recorded whether it succeeds or not."""
    job = _job(job_id)
    holder = holder or RUNNER
    now = now or utcnow()
    if trigger == "schedule" and is_paused(job.id):
        return _skipped(job, trigger, holder, "paused by an administrator")
    if not _acquire(job, holder, now):
        return _skipped(job, trigger, holder, "another runner holds the lease")
    run = JobRun(job_id=job.id, status="running", trigger=trigger, runner=holder)
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    started = time.monotonic()
    try:
        counts = _callable(job)(now)
        status, error = "success", None
    except Exception as exc:  # a failed job is recorded and visible, never silently lost
        db.session.rollback()
        counts, status, error = None, "failed", f"{type(exc).__name__}: {exc}"
    run = db.session.get(JobRun, run_id)
    run.status = status
    run.error = error
    run.counts = json.dumps(counts, ensure_ascii=False) if counts else None
    run.finished_at = utcnow()
    run.duration_ms = int((time.monotonic() - started) * 1000)
    db.session.commit()
    _release(job, holder)
    return run


@dataclass
class JobStatus:
    spec: JobSpec
    next_run: dt.datetime | None
    last_run: JobRun | None
    paused: bool
    running: bool


def status(next_runs: dict[str, dt.datetime | None] | None = None) -> list[JobStatus]:
    out = []
    now = utcnow()
    for job in JOBS:
        last = db.session.execute(
            select(JobRun).where(JobRun.job_id == job.id).order_by(JobRun.id.desc()).limit(1)
        ).scalar()
        lease = db.session.get(JobLease, job.id)
        running = bool(lease and lease.holder and lease.expires_at > now)
        out.append(JobStatus(job, (next_runs or {}).get(job.id), last, bool(lease and lease.paused), running))
    return out


def history(job_id: str | None = None, limit: int = 50) -> list[JobRun]:
    stmt = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job_id:
        stmt = stmt.where(JobRun.job_id == job_id)
    return list(db.session.execute(stmt).scalars())
