"""APScheduler 3 set-up, shared by `crm scheduler` and the embedded mode (`CRM_SCHEDULER=embedded`).

Jobs live in a SQLAlchemy job store in the app's own database and are registered idempotently
(`replace_existing`). Missed runs are coalesced into one and still run within the grace time; each
run goes through `services.jobs.execute`, whose database lease keeps every job to one runner even
when several web workers or a stray second scheduler are up.
"""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from app.jobs import JOBS

log = logging.getLogger(__name__)
_app: Flask | None = None
MISFIRE_GRACE_SECONDS = 6 * 3600  # a scheduler down for a few hours still catches up, once


def run_job(job_id: str) -> None:
    """Entry point stored in the job store (a module-level function, so it serialises by name)."""
    from app.services import jobs

    assert _app is not None, "scheduler not initialised"
    with _app.app_context():
        run = jobs.execute(job_id, trigger="schedule")
        log.info("job %s: %s %s", job_id, run.status, run.error or run.counts or "")


def build(app: Flask, blocking: bool = False) -> Any:
    global _app
    _app = app
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        jobstores={"default": SQLAlchemyJobStore(url=app.config["SQLALCHEMY_DATABASE_URI"],
                                                 tablename="apscheduler_jobs")},
        job_defaults={"coalesce": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS, "max_instances": 1},
        timezone=app.config.get("CRM_TIMEZONE", "Asia/Shanghai"),
    )
    for job in JOBS:
        scheduler.add_job(run_job, job.trigger, args=[job.id], id=job.id, name=job.id,
                          replace_existing=True, **job.trigger_args)
    return scheduler


def next_runs(app: Flask) -> dict[str, Any]:
    """Next fire time of each job as the job store knows it (empty if no scheduler ever ran)."""
    store = SQLAlchemyJobStore(url=app.config["SQLALCHEMY_DATABASE_URI"], tablename="apscheduler_jobs")
    try:
        store.start(None, "default")
        return {job.id: job.next_run_time for job in store.get_all_jobs()}
    except Exception:  # no job store table yet: the scheduler has never started
        return {}
    finally:
        store.shutdown()


def start_embedded(app: Flask) -> None:
    scheduler = build(app, blocking=False)
    scheduler.start()
    app.extensions["crm_scheduler"] = scheduler
    log.info("embedded scheduler started with jobs: %s", ", ".join(j.id for j in JOBS))
