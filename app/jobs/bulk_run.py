"""Bulk jobs in the background (issue 8.2).

A large job starts in a thread of the web process right after it is committed, with its own app
context. The `bulk_resume` job picks up any job still queued a minute later (e.g. the process
restarted before its thread ran), and any job left running whose heartbeat stopped (the process
died mid-way: it continues after the last committed batch); `bulk.claim` and `bulk.resume` make
sure only one runner processes a job.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

from app.extensions import db

log = logging.getLogger(__name__)
RESUME_AFTER = dt.timedelta(minutes=1)


def _run_in_app(app: Any, job_id: int) -> None:
    from app.services import bulk

    with app.app_context():
        try:
            bulk.run(job_id)
        except Exception:  # noqa: BLE001 - a thread has nobody to raise to
            log.exception("bulk job %s: runner failed", job_id)
        finally:
            db.session.remove()


def start_background(job_id: int) -> threading.Thread:
    app = current_app._get_current_object()  # noqa: SLF001 - the real app for the thread's context
    thread = threading.Thread(target=_run_in_app, args=(app, job_id), name=f"bulk-job-{job_id}", daemon=True)
    thread.start()
    return thread


def run(now: dt.datetime) -> dict[str, int]:
    """Process the bulk jobs left queued (their thread never ran) or left running by a runner that
    stopped beating (its process died)."""
    from app.models.bulk_job import BulkJob
    from app.services import bulk

    queued = list(db.session.execute(select(BulkJob.id).where(
        BulkJob.status == "queued", BulkJob.created_at < now - RESUME_AFTER).order_by(BulkJob.id)).scalars())
    for job_id in queued:
        bulk.run(job_id)
    cutoff = now - bulk.stale_after()
    stalled = list(db.session.execute(select(BulkJob.id).where(
        BulkJob.status == "running", or_(BulkJob.started_at < cutoff, BulkJob.started_at.is_(None)))
        .order_by(BulkJob.id)).scalars())
    taken = sum(1 for job_id in stalled if bulk.resume(job_id, cutoff) is not None)
    return {"resumed": len(queued) + taken, "taken_over": taken}
