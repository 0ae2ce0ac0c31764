"""Exact searches on a unique key (API `eq` on mobile and resident ID) are one customer query: no
count, no separate id query — and the row rule still decides what is found."""

from __future__ import annotations

from typing import Any

from tests.conftest import recorded_statements
from tests.http.conftest import eq_filter


def _search(client: Any, col: str, value: str) -> dict[str, Any]:
    resp = client.get("/api/v1/customers/", query_string={"q": eq_filter(col, value)})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_exact_mobile_and_id_are_one_query(app, as_user, make):
    c = make.customer("sales1")
    make.customer("sales1")
    client = as_user("manager")
    for col, value in (("mobile", c.mobile), ("id_number", c.id_number)):
        with recorded_statements(app) as seen:
            body = _search(client, col, value)
        assert body["count"] == 1 and [row["id"] for row in body["result"]] == [c.id]
        assert body["result"][0]["mobile"] == c.mobile_masked
        on_customers = [s for s in seen if " FROM customer" in s]
        assert len(on_customers) == 1, on_customers
        assert "count(" not in on_customers[0].lower()
        # Signed-in user (roles and groups in one query), public role, permissions, the search.
        assert len(seen) <= 4, seen


def test_exact_search_keeps_the_row_rule(as_user, make):
    theirs = make.customer("sales2")
    mine = make.customer("sales1")
    client = as_user("sales1")
    assert _search(client, "mobile", theirs.mobile)["count"] == 0
    assert _search(client, "id_number", theirs.id_number)["result"] == []
    assert [r["id"] for r in _search(client, "mobile", mine.mobile)["result"]] == [mine.id]


def test_unknown_or_malformed_value_finds_nothing(as_user, make):
    make.customer("sales1")
    client = as_user("manager")
    assert _search(client, "mobile", "13900000000")["count"] == 0
    assert _search(client, "id_number", "not-an-id")["count"] == 0
