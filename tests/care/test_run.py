"""Exactly once: reruns, restarts, two runners at once, and catching up missed days."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.care import CareTask
from app.services import care, jobs
from app.services.care_kinds import KINDS
from tests.care.conftest import customer, line, only, rule, run, tasks

D = dt.date


def _count() -> int:
    return db.session.execute(select(func.count(CareTask.id))).scalar()


def _opened(day: dt.date, n: int = 1) -> list:
    out = []
    for _ in range(n):
        c = customer(created=D(2025, 1, 1))
        line(c, effective=day)
        out.append(c)
    return out


def test_rerun_the_same_day_creates_no_duplicates(ctx):
    only("new_customer_revisit")
    _opened(D(2026, 3, 1), 3)
    assert run(D(2026, 3, 8)).created == 3
    assert run(D(2026, 3, 8)).created == 0
    assert run(D(2026, 3, 8)).created == 0
    assert _count() == 3


def test_missed_days_are_caught_up_once_on_the_next_run(ctx):
    only("new_customer_revisit")
    _opened(D(2026, 3, 1))
    _opened(D(2026, 3, 2))
    _opened(D(2026, 3, 3))
    assert run(D(2026, 3, 7)).created == 0
    # the scheduler is down on 03-08 and 03-09; the 03-10 run covers both missed days and its own
    result = run(D(2026, 3, 10))
    assert (result.days, result.created) == (3, 3)
    assert sorted(t.due_date for t in tasks()) == [D(2026, 3, 8), D(2026, 3, 9), D(2026, 3, 10)]
    assert rule("new_customer_revisit").covered_through == D(2026, 3, 10)
    again = run(D(2026, 3, 10))
    assert (again.days, again.created) == (1, 0)


def test_catch_up_is_bounded_to_31_days(ctx):
    only("new_customer_revisit")
    run(D(2026, 1, 1))
    assert run(D(2026, 6, 1)).days == care.MAX_CATCH_UP_DAYS


def test_a_new_rule_starts_today_without_back_filling(ctx):
    only("new_customer_revisit")
    _opened(D(2026, 1, 20))  # its revisits were due 01-27 and 02-19, before the rule ever ran
    assert run(D(2026, 3, 3)).days == 1
    assert tasks() == []


def test_restart_after_a_crash_half_way_creates_each_task_once(ctx, monkeypatch):
    only("new_customer_revisit", "plan_expiry_reminder")
    _opened(D(2026, 3, 1))
    line(customer(), effective=D(2025, 4, 1), expiry=D(2026, 4, 7))  # 30-day reminder due 03-08

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(KINDS["plan_expiry"], "occurrences", crash)
    with pytest.raises(RuntimeError):
        run(D(2026, 3, 8))
    db.session.rollback()
    assert [t.occurrence_key for t in tasks()] == ["d7"]  # the first rule committed with its watermark
    monkeypatch.undo()
    assert run(D(2026, 3, 8)).created == 1
    assert sorted(t.occurrence_key for t in tasks()) == ["d7", "exp:2026-04-07:30"]


def test_two_runners_at_once_never_duplicate(app, ctx):
    only("new_customer_revisit", "birthday_greeting", "revisit_high_value")
    _opened(D(2026, 3, 1), 12)
    for i in range(8):
        customer(created=D(2025, 1, 1), segment="high_value")
        del i
    barrier = threading.Barrier(2)
    results, errors = [], []

    def runner() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results.append(care.run_daily(dt.datetime(2026, 3, 8), today=D(2026, 3, 8)).created)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len([t for t in tasks() if t.occurrence_key == "d7"]) == 12
    assert sum(results) == _count()  # every task counted by exactly one runner
    keys = [(t.customer_id, t.rule_id, t.occurrence_key) for t in tasks()]
    assert len(keys) == len(set(keys))


def test_the_scheduled_job_runs_the_care_service_under_the_lease(ctx):
    only("new_customer_revisit")
    _opened(D(2026, 3, 1), 2)
    first = jobs.execute("care_daily", trigger="manual", now=dt.datetime(2026, 3, 8, 0, 0))  # 08:00 Beijing
    assert first.status == "success", first.error
    assert json.loads(first.counts) == {"rules": 1, "days": 1, "created": 2}
    again = jobs.execute("care_daily", trigger="manual", now=dt.datetime(2026, 3, 8, 1, 0))
    assert json.loads(again.counts)["created"] == 0
    assert _count() == 2
    spec = jobs.get("care_daily")
    assert spec.trigger == "cron" and spec.trigger_args == {"hour": 6, "minute": 0}


def test_business_day_is_the_local_day(ctx):
    # 2026-03-07 17:00 UTC is 2026-03-08 01:00 in Asia/Shanghai
    assert care.business_date(dt.datetime(2026, 3, 7, 17, 0)) == D(2026, 3, 8)
