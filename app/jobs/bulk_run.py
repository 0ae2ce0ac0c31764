"""Bulk jobs in the background (issue 8.2).

A large job starts in a thread of the web process right after it is committed, with its own app
context. The `bulk_resume` job picks up any job still queued a minute later (e.g. the process
restarted before its thread ran); `bulk.claim` makes sure only one runner processes a job.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from flask import current_app
from sqlalchemy import select

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
    """Process the bulk jobs left queued (their thread never ran)."""
    from app.models.bulk_job import BulkJob
    from app.services import bulk

    stale = list(db.session.execute(select(BulkJob.id).where(
        BulkJob.status == "queued", BulkJob.created_at < now - RESUME_AFTER).order_by(BulkJob.id)).scalars())
    for job_id in stale:
        bulk.run(job_id)
    return {"resumed": len(stale)}
