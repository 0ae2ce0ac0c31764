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
    JobSpec(
        id="care_team_summary",
        func="app.jobs.care_team_summary:run",
        trigger="interval",
        trigger_args={"minutes": 15},
        description=_l("Fold the care team page's task counts into one row per person, due day and status."),
        lease_seconds=600,
    ),
    JobSpec(
        id="sales_rescore",
        func="app.jobs.sales_rescore:run",
        trigger="cron",
        trigger_args={"hour": 4, "minute": 40},
        description=_l("Refresh the priority score of every open lead (recency fades day by day)."),
    ),
    JobSpec(
        id="sales_summary",
        func="app.jobs.sales_summary:run",
        trigger="cron",
        trigger_args={"hour": 4, "minute": 50},
        description=_l("Rebuild the sales dashboard's daily summary from the live records (a check: "
                       "every change already updates it)."),
        lease_seconds=900,
    ),
    JobSpec(
        id="segments_nightly",
        func="app.jobs.segments_job:run",
        trigger="cron",
        trigger_args={"hour": 5, "minute": 0},  # before care_daily, so care rules see fresh segments
        description=_l("Recompute every customer's value score, segment and at-risk flag, and the month's snapshot."),
    ),
    JobSpec(
        id="churn_score",
        func="app.jobs.churn_job:score",
        trigger="cron",
        trigger_args={"hour": 5, "minute": 20},
        description=_l("Score every open customer's churn risk with the active model and keep the top reasons."),
    ),
    JobSpec(
        id="churn_train",
        func="app.jobs.churn_job:train",
        trigger="cron",
        trigger_args={"day_of_week": "sun", "hour": 3, "minute": 30},
        description=_l("Retrain the churn model every week (a new version with its metrics) and rescore."),
    ),
    JobSpec(
        id="sla_check",
        func="app.jobs.sla_check:run",
        trigger="interval",
        trigger_args={"minutes": 1},
        description=_l("Mark ticket SLA warnings and breaches every minute; escalate each breach once."),
        lease_seconds=300,  # a crashed runner blocks the minute job for 5 minutes, not an hour
    ),
    JobSpec(
        id="outbox_send",
        func="app.jobs.outbox_send:run",
        trigger="interval",
        trigger_args={"minutes": 1},
        description=_l("Send due SMS and email messages from the outbox, retrying failures with backoff."),
        lease_seconds=600,
    ),
    JobSpec(
        id="campaign_launch",
        func="app.jobs.campaign_launch:run",
        trigger="interval",
        trigger_args={"minutes": 1},
        description=_l("Contact the targets of launched campaigns in batches (resumes where it stopped)."),
        lease_seconds=600,  # a run stops starting batches after CRM_CAMPAIGN_LAUNCH_SECONDS (240 s)
    ),
    JobSpec(
        id="campaign_attribution",
        func="app.jobs.campaign_attribution:run",
        trigger="cron",
        trigger_args={"hour": 3, "minute": 10},
        description=_l("Attribute campaign responses and conversions (orders, plan changes, new lines)."),
    ),
    JobSpec(
        id="kpi_refresh",
        func="app.jobs.kpi_refresh:run",
        trigger="interval",
        trigger_args={"minutes": 10},
        description=_l("Recompute the figures of the manager dashboard, customer analysis and churn factor pages."),
        lease_seconds=900,
    ),
    JobSpec(
        id="service_summary",
        func="app.jobs.service_summary:run",
        trigger="cron",
        trigger_args={"hour": 0, "minute": 20},  # CRM_TIMEZONE: yesterday has just closed
        description=_l("Add yesterday (and any missed days) to the service statistics' daily summary."),
    ),
    JobSpec(
        id="service_summary_full",
        func="app.jobs.service_summary:run_full",
        trigger="cron",
        trigger_args={"day_of_week": "sun", "hour": 4, "minute": 10},
        description=_l("Rebuild the service statistics' daily summary from the first ticket on."),
    ),
    JobSpec(
        id="bulk_resume",
        func="app.jobs.bulk_run:run",
        trigger="interval",
        trigger_args={"minutes": 1},
        description=_l("Run the bulk actions still waiting a minute after they were confirmed (e.g. after a restart)."),
        lease_seconds=3600,
    ),
)


def get(job_id: str) -> JobSpec | None:
    return next((j for j in JOBS if j.id == job_id), None)
