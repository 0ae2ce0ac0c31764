"""Agenda pages: my follow-ups tabs and calendar, completing a task, team page, 360 panel, menu."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from app.extensions import db
from app.models.care import CareTask
from tests.care.conftest import add_task, bill, customer, line

D = dt.date
TODAY = D(2026, 3, 10)


@pytest.fixture(autouse=True)
def _clock(monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setattr("app.views.care.today", lambda: TODAY)


def _ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'class="panel panel-\w+ crm-care-task" data-task-id="(\d+)"', html)}


@pytest.fixture
def agenda_data(app):  # noqa: ANN001, ANN201
    with app.app_context():
        c = customer("sales1", name="关怀测试客户", mobile="13912345678", segment="high_value")
        line(c, effective=D(2025, 1, 1))
        bill(c, due=D(2026, 2, 1), total="88.50")
        other = customer("sales2")
        ids = {
            "today": add_task(c, "new_customer_revisit", TODAY, "sales1", key="k-today").id,
            "overdue": add_task(c, "new_customer_revisit", TODAY - dt.timedelta(days=3), "sales1", key="k-old").id,
            "week": add_task(c, "plan_expiry_reminder", TODAY + dt.timedelta(days=7), "sales1",
                             key="exp:2026-04-16:7").id,
            "later": add_task(c, "new_customer_revisit", TODAY + dt.timedelta(days=8), "sales1", key="k-late").id,
            "done": add_task(c, "new_customer_revisit", TODAY, "sales1", key="k-done", status="done").id,
            "sales2": add_task(other, "new_customer_revisit", TODAY, "sales2", key="k-s2").id,
        }
        return {"customer": c.id, "other": other.id, **ids}


def test_tabs_show_today_overdue_and_next_7_days(as_user, agenda_data):
    client = as_user("sales1")
    today = client.get("/care/")
    assert today.status_code == 200
    html = today.get_data(as_text=True)
    assert _ids(html) == {agenda_data["today"]}
    assert _ids(client.get("/care/?tab=overdue").get_data(as_text=True)) == {agenda_data["overdue"]}
    assert _ids(client.get("/care/?tab=week").get_data(as_text=True)) == {agenda_data["week"]}
    # key facts: masked mobile, link to the 360 page, arrears, call script, the CSRF-ready form
    assert "139****5678" in html and "13912345678" not in html
    assert f'/customer360/{agenda_data["customer"]}' in html
    assert "88.50" in html
    assert 'name="outcome"' in html and "crm-care-script" in html
    # the month calendar counts open tasks per day
    cal = client.get("/care/?month=2026-03").get_data(as_text=True)
    cell = re.search(r'data-date="2026-03-10">\s*10<br><span class="badge crm-care-count">(\d+)</span>', cal)
    assert cell and cell.group(1) == "1"


def test_a_user_sees_only_their_own_tasks(as_user, agenda_data):
    html = as_user("sales2").get("/care/").get_data(as_text=True)
    assert _ids(html) == {agenda_data["sales2"]}
    resp = as_user("sales2").post(f"/care/tasks/{agenda_data['today']}/complete", data={"outcome": "reached"})
    assert resp.status_code == 404


def test_completing_as_not_reached_reschedules(app, as_user, agenda_data):
    client = as_user("sales1")
    resp = client.post(f"/care/tasks/{agenda_data['today']}/complete",
                       data={"outcome": "not_reached", "notes": "关机", "tab": "today"})
    assert resp.status_code == 302
    with app.app_context():
        t = db.session.get(CareTask, agenda_data["today"])
        assert (t.status, t.due_date, t.attempts) == ("open", D(2026, 3, 12), 1)
        assert "关机" in t.notes
    assert _ids(client.get("/care/").get_data(as_text=True)) == set()
    assert agenda_data["today"] in _ids(client.get("/care/?tab=week").get_data(as_text=True))
    client.post(f"/care/tasks/{agenda_data['overdue']}/complete", data={"outcome": "reached"})
    bad = client.post(f"/care/tasks/{agenda_data['week']}/complete", data={"outcome": ""}, follow_redirects=True)
    assert "alert-danger" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CareTask, agenda_data["overdue"]).status == "done"
        assert db.session.get(CareTask, agenda_data["week"]).status == "open"


def test_team_page_rates_and_bulk_reassign_for_managers(app, as_user, agenda_data):
    manager = as_user("manager")
    page = manager.get("/care/team/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-user="sales1"' in html and 'data-user="sales2"' in html
    # sales1: 3 due in the last 30 days (today, overdue, done), 1 done
    row = re.search(r'data-user="sales1">.*?class="text-right crm-rate">([^<]+)<', html, re.S)
    assert row and row.group(1).strip() == "33.3%"
    with app.app_context():
        from tests.conftest import actor_for

        sales2 = actor_for("sales2").id
    resp = manager.post("/care/team/reassign", data={"task_id": [agenda_data["today"], agenda_data["week"]],
                                                    "assignee_id": sales2})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(CareTask, agenda_data["today"]).assignee_id == sales2
        assert db.session.get(CareTask, agenda_data["week"]).assignee_id == sales2
    assert agenda_data["today"] in _ids(as_user("sales2").get("/care/").get_data(as_text=True))
    sales = as_user("sales1")
    assert sales.get("/care/team/").status_code in (302, 403)
    sales.post("/care/team/reassign", data={"task_id": [agenda_data["overdue"]], "assignee_id": sales2})
    with app.app_context():
        assert db.session.get(CareTask, agenda_data["overdue"]).assignee_id != sales2


def test_customer360_shows_open_care_tasks(as_user, agenda_data):
    html = as_user("sales1").get(f"/customer360/{agenda_data['customer']}").get_data(as_text=True)
    panel = html[html.index('id="crm-care"'):]
    panel = panel[:panel.index("</div>\n      </div>") if "</div>\n      </div>" in panel else 2000]
    assert "crm-care-open" in panel
    assert panel.count("data-task-id=") == 4  # the open ones, not the done one
    empty = as_user("sales2").get(f"/customer360/{agenda_data['other']}").get_data(as_text=True)
    assert "crm-care-open" in empty  # sales2's own task on their customer
    clerk = as_user("clerk1").get(f"/customer360/{agenda_data['customer']}").get_data(as_text=True)
    assert "crm-care-open" not in clerk  # tasks of other people stay hidden (row rules)


def test_care_menu(as_user):
    html = as_user("sales1").get("/care/").get_data(as_text=True)
    assert "/care/" in html and "/care-rules/" not in html
    manager = as_user("manager").get("/care/").get_data(as_text=True)
    assert "/care/team/" in manager and "/care-rules/list/" in manager


def test_agenda_lists_high_priority_tasks_first_within_a_day(app, as_user, agenda_data):
    with app.app_context():
        c = db.session.get(CareTask, agenda_data["today"]).customer
        urgent = add_task(c, "plan_expiry_reminder", TODAY, "sales1", key="exp:2026-03-17:7")
        urgent.priority = "high"
        db.session.commit()
        urgent_id = urgent.id
    html = as_user("sales1").get("/care/").get_data(as_text=True)
    order = [int(x) for x in re.findall(r'crm-care-task" data-task-id="(\d+)"', html)]
    assert order == [urgent_id, agenda_data["today"]]


def test_tab_and_calendar_counts_are_the_open_tasks_and_follow_completion(app, as_user, agenda_data):
    from app.services import care
    from tests.conftest import actor_for

    with app.app_context():
        sales1 = actor_for("sales1")
        # done tasks and other people's tasks don't count; day +7 is in "next 7 days", day +8 is not
        assert care.tab_counts(sales1, TODAY) == {"today": 1, "overdue": 1, "week": 1}
        assert care.month_calendar(sales1, TODAY) == {TODAY - dt.timedelta(days=3): 1, TODAY: 1,
                                                     TODAY + dt.timedelta(days=7): 1, TODAY + dt.timedelta(days=8): 1}
    as_user("sales1").post(f"/care/tasks/{agenda_data['overdue']}/complete", data={"outcome": "reached"})
    with app.app_context():
        assert care.tab_counts(actor_for("sales1"), TODAY)["overdue"] == 0
        assert TODAY - dt.timedelta(days=3) not in care.month_calendar(actor_for("sales1"), TODAY)
