"""Scheduled jobs, defined in code. Each job module has a `run(now) -> dict` calling one service.

Registration is this one list; `crm scheduler`, the embedded scheduler, `crm jobs list` and
`crm jobs run` all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", called as func(now) and returning counts
    trigger: str  # "cron" or "interval"
    trigger_args: dict[str, Any] = field(default_factory=dict)
    description: Any = ""  # a lazy translated string
    lease_seconds: int = 3600


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        id="audit_verify",
        func="app.jobs.audit_verify:run",
        trigger="cron",
        trigger_args={"hour": 2, "minute": 30},
        description=_l("Verify the audit log's hash chain every night."),
    ),
    JobSpec(
        id="care_daily",
        func="app.jobs.care_daily:run",
        trigger="cron",
        trigger_args={"hour": 6, "minute": 0},  # the scheduler's time zone: CRM_TIMEZONE
        description=_l("Create the day's customer care tasks (and any missed days'), once each."),
    ),
)


def get(job_id: str) -> JobSpec | None:
    return next((j for j in JOBS if j.id == job_id), None)
