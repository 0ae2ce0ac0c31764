"""The team page's figures come from `care_task_daily`; after every kind of task write they equal a
direct count over `care_task`, and folding the summary's rows changes no figure."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import threading
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import case, create_engine, delete, func, inspect, select, text

from app.extensions import db
from app.models.care import CareTask
from app.models.care_summary import CareTaskDaily
from app.models.contact_log import ContactLog
from app.models.user import CrmUser
from app.services import backup as backups
from app.services import care, care_summary, contact_logs, customer_merge, jobs
from tests.care.conftest import add_task, customer, line, only, run, tasks
from tests.conftest import actor_for

D = dt.date
TODAY = D(2026, 3, 10)
MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0023_care_team_summary.py"


def direct_team(today: dt.date, days: int = 30) -> dict[str, tuple[int, int, int, int]]:
    """{username: (due, done, open overdue, open)} counted over care_task itself."""
    since = today - dt.timedelta(days=days - 1)
    in_window = (CareTask.due_date >= since) & (CareTask.due_date <= today)
    is_open = CareTask.status == "open"
    rows = db.session.execute(
        select(CrmUser.username,
               func.sum(case((in_window, 1), else_=0)),
               func.sum(case((in_window & (CareTask.status == "done"), 1), else_=0)),
               func.sum(case((is_open & (CareTask.due_date < today), 1), else_=0)),
               func.sum(case((is_open, 1), else_=0)))
        .outerjoin(CrmUser, CrmUser.id == CareTask.assignee_id)
        .where(is_open | in_window).group_by(CrmUser.username)).all()
    return {name or "Unassigned": tuple(int(v) for v in counts) for name, *counts in rows}


def page_team(today: dt.date) -> dict[str, tuple[int, int, int, int]]:
    return {("Unassigned" if r.user_id is None else r.username): (r.due, r.done, r.open_overdue, r.open_total)
            for r in care.team_stats(actor_for("manager"), today)}


def assert_exact(today: dt.date = TODAY) -> None:
    db.session.expire_all()
    assert care_summary.drift() == {}
    assert page_team(today) == direct_team(today)


def summary_rows() -> int:
    return db.session.execute(select(func.count()).select_from(CareTaskDaily)).scalar()


def _opened(day: dt.date, n: int, owner: str = "sales1") -> None:
    for _ in range(n):
        line(customer(owner, created=D(2025, 1, 1)), effective=day)


def test_daily_run_and_its_rerun_keep_the_figures_exact(ctx):
    only("new_customer_revisit")
    _opened(D(2026, 3, 3), 3)
    _opened(D(2026, 3, 3), 2, owner="sales2")
    assert run(TODAY).created == 5
    assert page_team(TODAY) == {"sales1": (3, 0, 0, 3), "sales2": (2, 0, 0, 2)}
    assert_exact()
    rows = summary_rows()
    assert run(TODAY).created == 0
    assert summary_rows() == rows  # a rerun that inserts nothing writes no summary row
    assert_exact()


def test_complete_reschedule_reassign_and_delete_keep_the_figures_exact(ctx, actor):
    c = customer()
    reached = add_task(c, "new_customer_revisit", TODAY, "sales1", key="a")
    missed = add_task(c, "new_customer_revisit", TODAY - dt.timedelta(days=2), "sales1", key="b")
    moved = add_task(c, "new_customer_revisit", TODAY - dt.timedelta(days=1), "sales1", key="c")
    gone = add_task(c, "new_customer_revisit", TODAY + dt.timedelta(days=3), None, key="d")
    old = add_task(c, "new_customer_revisit", TODAY - dt.timedelta(days=40), "sales2", key="e", status="done")
    assert_exact()

    care.complete(reached.id, "reached", "", actor("sales1"), today=TODAY)
    assert page_team(TODAY)["sales1"] == (3, 1, 2, 2)
    care.complete(missed.id, "not_reached", "", actor("sales1"), today=TODAY)  # rescheduled to 03-12
    assert page_team(TODAY)["sales1"] == (2, 1, 1, 2)
    assert_exact()
    assert care.reassign([moved.id, gone.id], actor("sales2").id, actor("manager")) == 2
    assert page_team(TODAY)["sales2"] == (1, 0, 1, 2)
    assert_exact()
    care.api_update(missed.id, {"outcome": "refused", "notes": "no"}, actor("manager"))
    db.session.delete(db.session.get(CareTask, old.id))
    db.session.commit()
    assert_exact()
    assert "Unassigned" not in page_team(TODAY)


@pytest.fixture
def contact_log_cleanup(ctx):  # noqa: ANN001, ANN201
    """This package's teardown empties care_task first: the follow-ups' contact logs must go before."""
    yield
    db.session.rollback()
    db.session.execute(delete(ContactLog))
    db.session.commit()


def test_follow_ups_and_merges_keep_the_figures_exact(ctx, actor, contact_log_cleanup):
    sales1 = actor("sales1")
    c = customer()
    contact_logs.create({"customer_id": c.id, "method": "phone", "content": "called",
                         "next_contact_date": (TODAY + dt.timedelta(days=2)).isoformat()}, sales1, today=TODAY)
    assert_exact()
    # Two duplicates with the same occurrence: the merge deletes the merged customer's task.
    dup = customer()
    add_task(c, "new_customer_revisit", TODAY, "sales1", key="d7")
    add_task(dup, "new_customer_revisit", TODAY, "sales2", key="d7")
    customer_merge.merge(c.id, dup.id, {}, actor("clerk1"))
    assert [t.assignee_id for t in tasks(occurrence_key="d7")] == [sales1.id]
    assert_exact()
    assert "sales2" not in page_team(TODAY)  # their only task went with the merge


def test_campaign_tasks_and_their_cancellation_are_counted(ctx):
    from app.services import campaigns
    from tests.campaigns.conftest import NOW, make_campaign

    for _ in range(3):
        customer(consent_marketing=True)
    camp = make_campaign()
    campaigns.launch(camp.id, actor_for("manager"), today=NOW.date())
    campaigns.process_launches(NOW)
    assert len(tasks(source_type="campaign")) == 3
    assert_exact(NOW.date())
    campaigns.cancel(camp.id, actor_for("manager"))
    assert {t.status for t in tasks(source_type="campaign")} == {"cancelled"}
    assert_exact(NOW.date())


def test_folding_keeps_every_figure_and_leaves_one_row_per_key(ctx, actor):
    c = customer()
    ids = [add_task(c, "new_customer_revisit", TODAY - dt.timedelta(days=i % 3), "sales1", key=f"k{i}").id
           for i in range(6)]
    for task_id in ids[:3]:
        care.complete(task_id, "reached", "", actor("sales1"), today=TODAY)
    care.reassign(ids[3:], actor("sales2").id, actor("manager"))  # sales1's open keys net to 0
    before = page_team(TODAY)
    assert summary_rows() > len(care_summary.counts())
    result = care_summary.compact()
    assert result["folded"] > result["kept"]
    assert summary_rows() == len(care_summary.counts())  # one row per key, none at 0
    assert page_team(TODAY) == before
    assert_exact()
    assert care_summary.compact() == {"folded": 0, "kept": 0}  # nothing left to fold
    run_ = jobs.execute("care_team_summary", trigger="manual", now=dt.datetime(2026, 3, 10, 2, 0))
    assert run_.status == "success", run_.error


def test_a_person_whose_tasks_all_moved_is_not_listed(ctx, actor):
    t = add_task(customer(), "new_customer_revisit", TODAY, "sales1")
    care.reassign([t.id], actor("sales2").id, actor("manager"))
    assert set(page_team(TODAY)) == {"sales2"}  # sales1's rows still exist, netting to 0
    care_summary.compact()
    assert set(page_team(TODAY)) == {"sales2"}


def test_rebuild_repairs_a_summary_that_missed_writes(ctx):
    c = customer()
    for i in range(3):
        add_task(c, "new_customer_revisit", TODAY, "sales1", key=f"r{i}")
    db.session.execute(delete(CareTaskDaily))  # as after a bulk load with triggers switched off
    db.session.commit()
    assert care_summary.drift() == {(actor_for("sales1").id, TODAY, "open"): (0, 3)}
    assert care_summary.rebuild() == 1
    assert_exact()


def test_concurrent_runs_completions_and_folds_stay_exact(app, ctx, actor):
    only("new_customer_revisit", "birthday_greeting")
    _opened(D(2026, 3, 3), 6)
    _opened(D(2026, 3, 3), 6, owner="sales2")
    c = customer()
    pending = [add_task(c, "new_customer_revisit", TODAY - dt.timedelta(days=i % 4), "sales1", key=f"p{i}").id
               for i in range(8)]
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def worker(job) -> None:  # noqa: ANN001
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                job()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    def complete_all() -> None:
        for task_id in pending:
            care.complete(task_id, "reached", "", actor_for("sales1"), today=TODAY)

    def fold() -> None:
        for _ in range(5):
            care_summary.compact()

    def daily() -> None:
        care.run_daily(dt.datetime(2026, 3, 10), today=TODAY)

    threads = [threading.Thread(target=worker, args=(job,)) for job in (daily, daily, complete_all, fold)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(tasks(occurrence_key="d7")) == 12
    assert_exact()
    care_summary.compact()
    assert_exact()


def test_team_page_shows_the_summary_figures(ctx, actor, as_user, monkeypatch):
    from app.views import care as care_views

    monkeypatch.setattr(care_views, "today", lambda: TODAY)
    c = customer()
    for i in range(4):
        add_task(c, "new_customer_revisit", TODAY - dt.timedelta(days=i), "sales1", key=f"t{i}")
    first = tasks(assignee_id=actor("sales1").id)[0]
    care.complete(first.id, "reached", "", actor("sales1"), today=TODAY)
    html = as_user("manager").get("/care/team/").get_data(as_text=True)
    row = re.search(r'<tr data-user="sales1">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r'<td class="text-right[^"]*">([^<]*)</td>', row)
    assert cells == ["4", "1", "25.0%", "2", "3"]  # due, done, rate, open overdue, open


def test_a_logical_backup_restores_the_summary_as_it_was(ctx, actor, tmp_path):
    c = customer()
    task_id = add_task(c, "new_customer_revisit", TODAY, "sales1", key="b1").id
    add_task(c, "new_customer_revisit", TODAY - dt.timedelta(days=1), "sales2", key="b2")
    path = tmp_path / "crm.backup"
    manifest = backups.backup(path, "logical")
    care.complete(task_id, "reached", "", actor("sales1"), today=TODAY)
    backups.restore(path)  # raises unless every table, care_task_daily too, is back to the file's content
    db.session.remove()
    assert manifest["tables"]["care_task_daily"]["rows"] == summary_rows()
    assert_exact()


@pytest.fixture
def scratch(database_url):  # noqa: ANN001, ANN201
    """A connection to an empty schema (PostgreSQL) or database file (SQLite) holding a bare care_task."""
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url.replace("test.db", "migration-0023.db"))
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS care_task_daily"))
            conn.execute(text("DROP TABLE IF EXISTS care_task"))
    else:
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migration_0023 CASCADE"))
            conn.execute(text("CREATE SCHEMA migration_0023"))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET search_path TO migration_0023"))
        conn.execute(text("CREATE TABLE care_task (id INTEGER PRIMARY KEY, assignee_id INTEGER, "
                          "due_date DATE NOT NULL, status VARCHAR(16) NOT NULL, notes TEXT)"))
        conn.commit()
        yield conn
        conn.rollback()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA migration_0023 CASCADE"))
    engine.dispose()


def _migrate(conn, direction: str) -> None:  # noqa: ANN001
    spec = importlib.util.spec_from_file_location("m0023", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    with Operations.context(MigrationContext.configure(conn)):
        spec.loader.exec_module(module)
        getattr(module, direction)()
    conn.commit()


def test_the_migration_fills_the_summary_and_its_triggers_follow_writes(scratch):
    conn = scratch
    conn.execute(text("INSERT INTO care_task (id, assignee_id, due_date, status) VALUES "
                      "(1, 7, '2026-03-01', 'open'), (2, 7, '2026-03-01', 'open'), (3, 7, '2026-03-01', 'done'), "
                      "(4, NULL, '2026-03-02', 'open'), (5, 8, '2026-03-02', 'cancelled')"))
    conn.commit()
    _migrate(conn, "upgrade")

    def summary() -> dict:
        rows = conn.execute(text("SELECT assignee_id, due_date, status, sum(n) FROM care_task_daily "
                                 "GROUP BY assignee_id, due_date, status")).all()
        return {(a, str(d), s): int(n) for a, d, s, n in rows if n}

    def direct() -> dict:
        rows = conn.execute(text("SELECT assignee_id, due_date, status, count(*) FROM care_task "
                                 "GROUP BY assignee_id, due_date, status")).all()
        return {(a, str(d), s): int(n) for a, d, s, n in rows}

    assert summary() == direct() == {(7, "2026-03-01", "open"): 2, (7, "2026-03-01", "done"): 1,
                                     (None, "2026-03-02", "open"): 1, (8, "2026-03-02", "cancelled"): 1}
    conn.execute(text("INSERT INTO care_task (id, assignee_id, due_date, status) VALUES (6, 8, '2026-03-03', 'open')"))
    conn.execute(text("UPDATE care_task SET status = 'done' WHERE id = 1"))
    conn.execute(text("UPDATE care_task SET assignee_id = 8, due_date = '2026-03-05' WHERE id IN (2, 4)"))
    rows = conn.execute(text("SELECT count(*) FROM care_task_daily")).scalar()
    conn.execute(text("UPDATE care_task SET notes = 'called' WHERE id = 3"))
    assert conn.execute(text("SELECT count(*) FROM care_task_daily")).scalar() == rows  # not a count change
    conn.execute(text("DELETE FROM care_task WHERE id = 5"))
    conn.commit()
    assert summary() == direct()
    _migrate(conn, "downgrade")
    assert "care_task_daily" not in inspect(conn).get_table_names()
    conn.execute(text("DELETE FROM care_task"))  # no trigger left to write into the dropped table
