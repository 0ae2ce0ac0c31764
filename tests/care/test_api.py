"""The `care_tasks` API applies the same row rules as the pages; PUT completes or reassigns."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.care.conftest import add_task, customer
from tests.conftest import actor_for

D = dt.date


@pytest.fixture
def two_tasks(app):  # noqa: ANN001, ANN201
    with app.app_context():
        a = add_task(customer("sales1"), "new_customer_revisit", D(2026, 3, 10), "sales1", key="a")
        b = add_task(customer("sales2"), "new_customer_revisit", D(2026, 3, 10), "sales2", key="b")
        return a.id, b.id


def test_list_and_get_follow_the_row_rules(client, api_token, two_tasks):
    a, b = two_tasks
    sales1 = api_token("sales1")
    listing = client.get("/api/v1/care_tasks/", headers=sales1)
    assert listing.status_code == 200
    assert [r["id"] for r in listing.get_json()["result"]] == [a]
    assert client.get(f"/api/v1/care_tasks/{a}", headers=sales1).status_code == 200
    assert client.get(f"/api/v1/care_tasks/{b}", headers=sales1).status_code == 404
    manager = client.get("/api/v1/care_tasks/", headers=api_token("manager")).get_json()
    assert {r["id"] for r in manager["result"]} == {a, b}


def test_put_completes_own_tasks_only(client, api_token, two_tasks):
    a, b = two_tasks
    sales1 = api_token("sales1")
    assert client.put(f"/api/v1/care_tasks/{b}", headers=sales1, json={"outcome": "reached"}).status_code == 404
    bad = client.put(f"/api/v1/care_tasks/{a}", headers=sales1, json={"outcome": "whatever"})
    assert bad.status_code == 422 and "outcome" in bad.get_json()["message"]
    ok = client.put(f"/api/v1/care_tasks/{a}", headers=sales1, json={"outcome": "not_reached", "notes": "busy"})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["result"]["status"] == "open" and ok.get_json()["result"]["attempts"] == 1
    unknown = client.put(f"/api/v1/care_tasks/{a}", headers=sales1, json={"colour": "red"})
    assert unknown.status_code == 400


def test_put_assignee_is_for_managers(app, client, api_token, two_tasks):
    a, _b = two_tasks
    with app.app_context():
        sales2 = actor_for("sales2").id
    assert client.put(f"/api/v1/care_tasks/{a}", headers=api_token("sales1"),
                      json={"assignee_id": sales2}).status_code == 403
    moved = client.put(f"/api/v1/care_tasks/{a}", headers=api_token("manager"), json={"assignee_id": sales2})
    assert moved.status_code == 200 and moved.get_json()["result"]["assignee_id"] == sales2
