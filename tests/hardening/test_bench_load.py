"""The load test's own arithmetic and client (bench/bench_load.py, issue 7.9).

The numbers in bench/RESULTS.md are only as good as the percentiles, the error counting and the
simulated users behind them: these tests check each, and run four users (clerk, agent, salesperson,
care) for a few seconds against the test app served on 127.0.0.1, which must answer without one error.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import bench_load  # noqa: E402 - bench/ is not a package
from load_compare import turns  # noqa: E402
from load_stats import CONFLICT, ERROR, RAMP_UP, Stats, markdown_report, parse_mix, percentile  # noqa: E402
from load_users import Customer, Pool, csrf_of, form_with, ids_in  # noqa: E402

from tests.conftest import TEST_PASSWORD, actor_for  # noqa: E402
from tests.factories import customer_data, make_customer  # noqa: E402


# -- the user mix ---------------------------------------------------------------------------------------
def test_mix_is_read_per_role() -> None:
    assert parse_mix("clerk=20, agent=12,sales=10 ,care=8") == {"clerk": 20, "agent": 12, "sales": 10, "care": 8}
    assert parse_mix("agent=3") == {"agent": 3}
    assert parse_mix("clerk=0,care=1,") == {"clerk": 0, "care": 1}


@pytest.mark.parametrize("text", ["clerk", "boss=3", "clerk=two", "clerk=-1", "clerk=1,clerk=2", "clerk=0", ""])
def test_a_bad_mix_is_refused_with_the_part_named(text: str) -> None:
    with pytest.raises(ValueError):
        parse_mix(text)


def test_the_command_line_refuses_a_bad_mix_or_think_time(capsys: pytest.CaptureFixture) -> None:
    for argv in (["--password", "x", "--mix", "boss=1"], ["--password", "x", "--think", "3,1"]):
        with pytest.raises(SystemExit):
            bench_load.parse_args(argv + ["--database-url", "sqlite://"])
        assert "error" in capsys.readouterr().err


# -- percentiles and the report --------------------------------------------------------------------------
def test_the_two_views_take_turns_in_blocks_and_each_gets_its_count() -> None:
    assert turns(3, 1) == ["ours", "stock"] * 3  # request by request
    assert turns(7, 5) == ["ours"] * 5 + ["stock"] * 5 + ["ours"] * 2 + ["stock"] * 2
    assert turns(2, 0) == ["ours", "stock"] * 2  # a block of at least one


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 1..100, unsorted on purpose
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.95) == pytest.approx(95.05)
    assert percentile(values, 0.99) == pytest.approx(99.01)
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.95) == 0.0


def test_report_counts_errors_and_conflicts_apart_and_leaves_sign_in_out_of_the_total() -> None:
    stats = Stats()
    for ms in (10.0, 20.0, 30.0, 40.0):
        stats.record("customer 360", ms)
    stats.record("edit customer: save", 50.0, CONFLICT, "409")
    stats.record("login", 900.0)
    overall = stats.overall(("login",))
    assert (overall.count, overall.errors, overall.conflicts) == (5, 0, 1)
    report = markdown_report(stats, seconds=10.0, target_p95=300.0)
    assert "| customer 360 | 4 | 0 | 0 | 25.0 | 38.5 | 39.7 |" in report
    assert "| all requests | 5 | 0 | 1 |" in report and "| 0.5 |" in report  # 5 requests in 10 s
    assert "**met**" in report  # a conflict is not an error
    assert "edit customer: save: conflict: 409" in report
    stats.note_retry("ticket note")  # a reset kept-alive connection, sent again: reported, not an error
    assert "re-sent once after the server closed a kept-alive connection (as a browser does): 1 requests " \
        "(ticket note 1)" in markdown_report(stats, seconds=10.0)

    stats.record("ticket note", 20.0, ERROR, "POST /tickets/1/act → 500")
    assert "**not met**" in markdown_report(stats, seconds=10.0)
    stats.record("log a contact", 30.0)
    stats.fail("log a contact", ERROR, "red flash: 内容不能为空")  # the redirect showed the failure
    row = next(r for r in stats.rows() if r.op == "log a contact")
    assert (row.count, row.errors) == (1, 1)
    stats.fail("client crash", ERROR, "KeyError")  # counted although never timed
    assert stats.overall(("login",)).errors == 3
    slow = Stats()
    slow.record("lead list", 400.0)
    assert "**not met**" in markdown_report(slow, seconds=1.0, target_p95=300.0)


def test_cpu_of_a_process_group_is_read_from_proc() -> None:
    """The report's "ms of app CPU per request" sums gunicorn's process group; here: this test's own group."""
    import os

    spent = bench_load.group_cpu_seconds(os.getpgrp())
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # burn 0.3 s of CPU in this process
        pass
    assert bench_load.group_cpu_seconds(os.getpgrp()) - spent >= 0.25
    assert bench_load.group_cpu_seconds(2**22 + 12345) == 0.0  # no such group


def test_the_ramp_up_is_reported_apart_but_its_errors_still_count() -> None:
    stats = Stats(steady_from=100.0)
    assert stats.name_for("search by id", 99.9) == RAMP_UP
    assert stats.name_for("login", 99.9) == "login"  # sign-in has its own row whenever it happens
    assert stats.name_for("search by id", 100.0) == "search by id"
    stats.record(RAMP_UP, 2500.0)  # a slow first page while 50 people sign in
    stats.record("search by id", 20.0)
    assert stats.overall((RAMP_UP, "login")).p95 == 20.0
    assert "**met**" in markdown_report(stats, seconds=1.0)
    stats.record(RAMP_UP, 30.0, ERROR, "GET /care/ → 500")
    assert "**not met**" in markdown_report(stats, seconds=1.0)


# -- reading pages -----------------------------------------------------------------------------------------
EDIT_PAGE = """
<form action="/search" method="get"><input name="q" value=""></form>
<form id="model_form" method="post">
  <input id="csrf_token" name="csrf_token" type="hidden" value="tok-123">
  <input name="name" value="张三"><input name="version" type="hidden" value="4">
  <select name="gender"><option value="">—</option><option value="M" selected>男</option></select>
  <select name="segment"><option value="ordinary">普通</option><option value="vip">贵宾</option></select>
  <input type="checkbox" name="consent_marketing" value="y" checked>
  <input type="checkbox" name="consent_analytics" value="y">
  <textarea name="address">北京市 &amp; 朝阳区</textarea>
  <input type="submit" value="保存">
</form>"""


def test_an_edit_form_is_sent_back_as_a_browser_would() -> None:
    assert form_with(EDIT_PAGE, "version") == {
        "csrf_token": "tok-123", "name": "张三", "version": "4", "gender": "M", "segment": "ordinary",
        "consent_marketing": "y", "address": "北京市 & 朝阳区",
    }
    assert form_with(EDIT_PAGE, "nothing") is None
    assert csrf_of(EDIT_PAGE) == "tok-123"
    assert csrf_of('<input value="abc" type="hidden" name="csrf_token">') == "abc"
    assert csrf_of("<p>no form</p>") == ""
    assert ids_in('<a href="/tickets/7">a</a><a href="/tickets/3">b</a><a href="/tickets/7">c</a>',
                  r'href="/tickets/(\d+)"') == [7, 3]


# -- four users against the test server ---------------------------------------------------------------------
class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture
def work(app: Any) -> Pool:
    """A customer to find and one to edit; a ticket of agent1's, a lead of sales1's, a follow-up of sales2's."""
    from app.extensions import db
    from app.models.base import utcnow
    from app.models.care import CareRule, CareTask
    from app.models.department import Department
    from app.services import care, leads, tickets

    with app.app_context():
        admin = actor_for("admin2")
        data = customer_data()
        found = make_customer(admin, **data)
        edited = make_customer(admin)
        service = db.session.execute(select(Department.id).where(Department.code == "customer-service")).scalar()
        ticket = tickets.create({"channel": "phone", "ticket_type": "consultation", "subject": "流量查询",
                                 "description": "压测", "customer_id": found.id, "department_id": service},
                                actor_for("manager"))
        if ticket.assignee_id != actor_for("agent1").id:
            tickets.assign(ticket.id, actor_for("agent1").id, actor_for("manager"))
        leads.create({"name": "压测线索", "mobile": "13900001111", "source": "website"}, actor_for("sales1"))
        rule = db.session.execute(select(CareRule).order_by(CareRule.id)).scalars().first()
        db.session.add(CareTask(rule_id=rule.id, customer_id=found.id, occurrence_key="load-test",
                                due_date=care.business_date(utcnow()), assignee_id=actor_for("sales2").id,
                                status="open"))
        db.session.commit()
        customer = Customer(found.id, found.name, found.mobile, data["id_number"])
        return Pool([customer], {"clerk-clerk1-0": [edited.id]})


REQUIRED_OPS = ("login", "customer 360", "edit customer: save", "ticket queue", "open ticket",
                "lead list", "open lead", "log a contact", "complete a task")


def _all_done(stats: Stats) -> bool:
    done = {row.op: row.count for row in stats.rows()}
    return (all(done.get(op, 0) >= 1 for op in REQUIRED_OPS)
            and sum(done.get(f"search by {kind}", 0) for kind in ("mobile", "id", "name")) >= 1
            and done.get("ticket note", 0) + done.get("ticket status change", 0) >= 1)


def test_four_users_work_for_a_few_seconds_without_an_error(app: Any, work: Pool) -> None:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        args = argparse.Namespace(mix={"clerk": 1, "agent": 1, "sales": 1, "care": 1}, think=(0.02, 0.1),
                                  password=TEST_PASSWORD, seed=7)
        accounts = {"clerk": ["clerk1"], "agent": ["agent1"], "sales": ["sales1"], "care": ["sales2"]}
        stats = Stats()
        # The users work until each role's pages have all been done once (a few seconds on a quiet
        # machine; a busy CI machine gets up to 90 s), then stop.
        limit = time.monotonic() + 90.0
        users = bench_load.build_users(f"http://127.0.0.1:{server.server_port}", args, accounts, work, stats,
                                       deadline=limit)
        for u in users:
            u.start()
        while time.monotonic() < limit and not _all_done(stats) and any(u.is_alive() for u in users):
            time.sleep(0.2)
        for u in users:
            u.deadline = time.monotonic()
        for u in users:
            u.join(timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    done = {row.op: row.count for row in stats.rows()}
    assert [u.crashed for u in users if u.crashed] == []
    assert stats.overall().errors == 0, stats.error_samples
    assert stats.overall().conflicts == 0, stats.error_samples
    # Every role got its work done: searches and the 360 page, an edit, a ticket update, a logged
    # contact and a completed follow-up — each a real write through the product's pages.
    for op in REQUIRED_OPS:
        assert done.get(op, 0) >= 1, (op, done)
    # The clerk picks mobile, ID or name at random, the agent a note or a status change.
    assert sum(done.get(f"search by {kind}", 0) for kind in ("mobile", "id", "name")) >= 1, done
    assert done.get("ticket note", 0) + done.get("ticket status change", 0) >= 1, done
    with app.app_context():
        from app.extensions import db
        from app.models.care import CareTask
        from app.models.customer import Customer as CustomerRow

        edited = db.session.get(CustomerRow, work.edit_ids["clerk-clerk1-0"][0])
        assert edited.address.startswith("上海市浦东新区压测路")
        task = db.session.execute(select(CareTask).where(CareTask.occurrence_key == "load-test")).scalar_one()
        assert task.attempts >= 1 or task.status != "open"
