"""`crm care rebuild-summary` / `crm care check-summary`: the care team page's counts (`care_task_daily`).

The triggers on `care_task` keep the summary exact in every writer's transaction; a load that bypassed
them (PostgreSQL's `session_replication_role = replica`, a hand-made fix) leaves it off until rebuilt.
`crm jobs run care_team_summary` only folds rows, it does not recount; these commands do.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.cli import crm
from app.services import care_summary

care_group = AppGroup("care", help="Customer care upkeep.")
crm.add_command(care_group)

SHOWN_KEYS = 10  # a summary missed by a bulk load can differ on thousands of keys: show a sample


def _echo_drift(label: str, drift: dict) -> None:
    off = sum(abs(summary - tasks) for summary, tasks in drift.values())
    click.echo(f"drift {label}: {len(drift)} keys, {off} tasks off")
    for (assignee_id, due, status), (summary, tasks) in sorted(drift.items(), key=lambda kv: str(kv[0]))[:SHOWN_KEYS]:
        who = assignee_id if assignee_id is not None else "unassigned"
        click.echo(f"  assignee {who}, due {due.isoformat()}, {status}: summary {summary}, tasks {tasks}")
    if len(drift) > SHOWN_KEYS:
        click.echo(f"  … and {len(drift) - SHOWN_KEYS} more keys")


@care_group.command("check-summary")
def check_summary_command() -> None:
    """Compare the team page's summary with the tasks; exit 1 if they differ (read only)."""
    drift = care_summary.drift()
    _echo_drift("now", drift)
    if drift:
        sys.exit(1)


@care_group.command("rebuild-summary")
def rebuild_summary_command() -> None:
    """Recount the team page's summary from the tasks, printing the drift before and after."""
    _echo_drift("before", care_summary.drift())
    keys = care_summary.rebuild()
    click.echo(f"rebuilt: {keys} keys")
    after = care_summary.drift()
    _echo_drift("after", after)
    if after:  # a writer without the triggers ran during the rebuild
        sys.exit(1)
