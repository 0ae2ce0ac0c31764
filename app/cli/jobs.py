"""`crm scheduler`, `crm jobs list`, `crm jobs run JOB_ID`."""

from __future__ import annotations

import signal
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import crm
from app.jobs import scheduler as sched
from app.services import jobs

jobs_group = AppGroup("jobs", help="Scheduled jobs.")
crm.add_command(jobs_group)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


@crm.command("scheduler")
def scheduler_command() -> None:
    """Run the APScheduler process in the foreground (one beside the web workers)."""
    scheduler = sched.build(current_app._get_current_object(), blocking=True)
    # SIGTERM (systemd, docker stop, a deploy) stops like Ctrl+C: Python's default would kill the
    # process mid-job; SystemExit instead unwinds to the graceful shutdown below.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    click.echo("Scheduler running; Ctrl+C or SIGTERM to stop (running jobs finish first).")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=True)


@jobs_group.command("list")
def list_command() -> None:
    """One line per job: id, next run, last run, outcome."""
    for st in jobs.status(sched.next_runs(current_app._get_current_object())):
        last = st.last_run
        next_run = st.next_run.strftime("%Y-%m-%d %H:%M %Z") if st.next_run else "-"
        last_at = last.started_at.strftime("%Y-%m-%d %H:%M:%S") if last else "-"
        outcome = (last.status + (f" ({last.error})" if last.error else "")) if last else "never run"
        click.echo(f"{st.spec.id}\tnext: {next_run}\tlast: {last_at}\t{outcome}")


@jobs_group.command("run")
@click.argument("job_id")
def run_command(job_id: str) -> None:
    """Run one job now, with the same lease and record as a scheduled run."""
    from app.services.errors import NotFound

    try:
        run = jobs.execute(job_id, trigger="manual")
    except NotFound as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"{job_id}: {run.status}" + (f" {run.counts}" if run.counts else "")
               + (f" — {run.error}" if run.error else ""))
    if run.status != "success":
        sys.exit(1)
