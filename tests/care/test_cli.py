"""`crm care check-summary` / `rebuild-summary` through Flask's CLI runner: an operator repairs the team
page's counts after a load that bypassed the triggers, and sees the drift before and after.
The sales and service summaries are rebuilt by their jobs (`crm jobs run sales_summary`,
`service_summary_full`), checked here through the same runner."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete

from app.extensions import db
from app.models.care_summary import CareTaskDaily
from app.services import care_summary
from tests.care.conftest import add_task, customer

TODAY = dt.date(2026, 3, 10)


def test_rebuild_summary_prints_the_drift_and_repairs_it(app, ctx):
    c = customer()
    for i in range(3):
        add_task(c, "new_customer_revisit", TODAY, "sales1", key=f"cli{i}")
    db.session.execute(delete(CareTaskDaily))  # as after a bulk load with the triggers switched off
    db.session.commit()
    runner = app.test_cli_runner()

    check = runner.invoke(args=["crm", "care", "check-summary"])
    assert check.exit_code == 1
    assert "drift now: 1 keys, 3 tasks off" in check.output
    assert "due 2026-03-10, open: summary 0, tasks 3" in check.output

    result = runner.invoke(args=["crm", "care", "rebuild-summary"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "drift before: 1 keys, 3 tasks off"
    assert "rebuilt: 1 keys" in lines
    assert lines[-1] == "drift after: 0 keys, 0 tasks off"
    db.session.expire_all()
    assert care_summary.drift() == {}
    assert runner.invoke(args=["crm", "care", "check-summary"]).exit_code == 0


def test_sales_and_service_summaries_rebuild_through_their_jobs(app, ctx):
    runner = app.test_cli_runner()
    for job in ("sales_summary", "service_summary_full"):
        result = runner.invoke(args=["crm", "jobs", "run", job])
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"{job}: success"), result.output
