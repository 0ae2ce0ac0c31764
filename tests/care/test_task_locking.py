"""Issue 7.5 for care tasks: an outcome recorded from a stale agenda page or API read is refused.

Two people (or one person in two tabs) mark the same task "not reached": only the first counts as
an attempt; the second sees what the first recorded and nothing of theirs is applied.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from app.extensions import db
from app.models.care import CareTask
from tests.care.conftest import add_task, customer
from tests.conftest import actor_for, login
from tests.http.conftest import flashes, tr

TODAY = dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _clock(monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setattr("app.views.care.today", lambda: TODAY)


@pytest.fixture
def task_id(app: Any) -> int:
    with app.app_context():
        return add_task(customer("sales1"), "new_customer_revisit", TODAY, "sales1", key="lock").id


def _state(app: Any, pk: int) -> tuple[str, dt.date, int, int]:
    with app.app_context():
        t = db.session.get(CareTask, pk)
        return t.status, t.due_date, t.attempts, t.version


def _form_version(html: str, pk: int) -> str:
    form = re.search(rf'action="/care/tasks/{pk}/complete">(.*?)</form>', html, re.S)
    assert form, "the task's outcome form is on the agenda"
    return re.search(r'name="version" value="(\d+)"', form.group(1)).group(1)


def test_two_stale_agenda_pages_count_one_attempt(app: Any, task_id: int) -> None:
    first, second = app.test_client(), app.test_client()
    login(first, "sales1")
    login(second, "sales1")  # the same person on a second device, page opened before the first call
    v1 = _form_version(first.get("/care/").get_data(as_text=True), task_id)
    v2 = _form_version(second.get("/care/").get_data(as_text=True), task_id)
    _, _, _, version = _state(app, task_id)
    assert v1 == v2 == str(version)
    resp = first.post(f"/care/tasks/{task_id}/complete",
                      data={"outcome": "not_reached", "notes": "关机", "version": v1, "tab": "today"})
    assert resp.status_code == 302
    stale = second.post(f"/care/tasks/{task_id}/complete",
                        data={"outcome": "not_reached", "notes": "无人接听", "version": v2, "tab": "today"},
                        follow_redirects=True)
    assert stale.status_code == 200
    warning = " ".join(flashes(stale, "warning"))
    # The warning says what the first call left: rescheduled to the 12th, one attempt, not reached.
    assert "2026-03-12" in warning and tr(app, "Not reached") in warning, warning
    assert "其他人已为该待办记录了结果" in warning  # the Chinese UI (default locale zh)
    assert _state(app, task_id) == ("open", dt.date(2026, 3, 12), 1, version + 1)
    with app.app_context():
        assert "无人接听" not in (db.session.get(CareTask, task_id).notes or "")
    # Having seen the warning, the fresh page records the second call.
    v3 = _form_version(second.get("/care/?tab=week").get_data(as_text=True), task_id)
    second.post(f"/care/tasks/{task_id}/complete", data={"outcome": "not_reached", "version": v3})
    assert _state(app, task_id)[2] == 2


def test_stale_outcome_on_the_api_is_409_and_changes_nothing(app: Any, client: Any, api_token: Any,
                                                            task_id: int) -> None:
    sales1, manager = api_token("sales1"), api_token("manager")
    version = client.get(f"/api/v1/care_tasks/{task_id}", headers=sales1).get_json()["result"]["version"]
    ok = client.put(f"/api/v1/care_tasks/{task_id}", headers=manager,
                    json={"outcome": "not_reached", "version": version})
    assert ok.status_code == 200 and ok.get_json()["result"]["version"] == version + 1
    stale = client.put(f"/api/v1/care_tasks/{task_id}", headers=sales1,
                       json={"outcome": "not_reached", "notes": "again", "version": version})
    assert stale.status_code == 409, stale.get_json()
    body = stale.get_json()
    # The API works on the real business day: the first call moved the task retry_days on from it.
    assert body["current"]["attempts"] == 1 and body["current"]["due_date"] == _state(app, task_id)[1].isoformat()
    assert body["current"]["due_date"] != TODAY.isoformat()
    assert body["current"]["outcome"] == "not_reached"
    assert _state(app, task_id)[2:] == (1, version + 1)
    again = client.put(f"/api/v1/care_tasks/{task_id}", headers=sales1,
                       json={"outcome": "reached", "version": version + 1})
    assert again.status_code == 200 and again.get_json()["result"]["status"] == "done"


def test_stale_reassign_on_the_api_is_409(app: Any, client: Any, api_token: Any, task_id: int) -> None:
    manager = api_token("manager")
    with app.app_context():
        sales2 = actor_for("sales2").id
    version = client.get(f"/api/v1/care_tasks/{task_id}", headers=manager).get_json()["result"]["version"]
    client.put(f"/api/v1/care_tasks/{task_id}", headers=api_token("sales1"),
               json={"outcome": "reached", "version": version})
    stale = client.put(f"/api/v1/care_tasks/{task_id}", headers=manager,
                       json={"assignee_id": sales2, "version": version})
    assert stale.status_code == 409 and stale.get_json()["current"]["status"] == "done"
    with app.app_context():
        assert db.session.get(CareTask, task_id).assignee_id == actor_for("sales1").id


def test_junk_version_on_the_api_is_422_naming_version(app: Any, client: Any, api_token: Any,
                                                        task_id: int) -> None:
    resp = client.put(f"/api/v1/care_tasks/{task_id}", headers=api_token("sales1"),
                      json={"outcome": "reached", "version": "abc"})
    assert resp.status_code == 422 and "version" in resp.get_json()["message"]
    assert _state(app, task_id)[:3] == ("open", TODAY, 0)


def test_an_outcome_losing_the_race_at_commit_is_a_conflict(app: Any, ctx: Any, task_id: int) -> None:
    """Both read the same version and both pass the check; the database refuses the second UPDATE."""
    from sqlalchemy import text

    from app.services import care
    from app.services.errors import Conflict

    sales1 = actor_for("sales1")
    loaded = care.get_task(task_id, sales1)  # this request's read, before the other one commits
    with db.engine.begin() as other:  # the other request's outcome, committed first
        other.execute(text("UPDATE care_task SET attempts = 1, version = version + 1 WHERE id = :id"),
                      {"id": task_id})
    with pytest.raises(Conflict) as exc:
        care.complete(task_id, "not_reached", "again", sales1, today=TODAY, version=loaded.version)
    assert exc.value.current["attempts"] == 1
    db.session.rollback()
    assert _state(app, task_id)[2] == 1  # one attempt, not two
