"""Keyset paging behind FAB's pager (`app/views/keyset.py`): every page is exactly what stock FAB's
`ORDER BY … OFFSET … LIMIT` returns — for each sort the list offers, with filters, under the Sales
row rule, when paging forward, backward, jumping, at and past the end, and after rows are added
or removed between two pages.

The seek only starts past `CRM_KEYSET_MIN_OFFSET` rows (1,000 in production); here it is 0, so a
list of a few dozen customers exercises it on every page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import g
from flask_appbuilder.models.sqla.filters import FilterContains, FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import select, text, update

from app.extensions import appbuilder, db
from app.models.customer import Customer
from app.views import keyset
from tests.http.conftest import page, q

SIZE = 4
NAMES = ["张伟", "王芳", "李娜", "刘洋", "王芳"]  # repeated names: ties broken by id
ORDERS = [("id", "desc"), ("id", "asc"), ("name", "asc"), ("name", "desc"),
          ("created_at", "desc"), ("created_at", "asc")]
# Forward, backward, a jump, back to the start, the last pages, past the end.
PAGES = [0, 1, 2, 3, 2, 1, 7, 6, 8, 0, 9, 10, 5, 30]


@pytest.fixture(autouse=True)
def _seek_from_first_page(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(app.config, "CRM_KEYSET_MIN_OFFSET", 0)
    keyset.clear()
    yield
    keyset.clear()


@pytest.fixture
def customers(app: Any, make: Any) -> dict[str, list[int]]:
    """30 customers of sales1 and 12 of sales2, few distinct names and creation times (ties)."""
    owned: dict[str, list[int]] = {"sales1": [], "sales2": []}
    for n in range(42):
        owner = "sales1" if n % 7 < 5 else "sales2"
        c = make.customer(owner, name=NAMES[n % len(NAMES)], city="北京" if n % 3 else "上海")
        owned[owner].append(c.id)
    with app.app_context():
        base = dt.datetime(2026, 1, 1, 8, 0)
        for i, cid in enumerate(sorted(owned["sales1"] + owned["sales2"])):
            # Through the column type, so SQLite stores the same text format the app writes.
            db.session.execute(update(Customer).where(Customer.id == cid)
                               .values(created_at=base + dt.timedelta(hours=i % 6)))
        db.session.commit()
    return owned


def _view() -> Any:
    return next(v for v in appbuilder.baseviews if type(v).__name__ == "CustomerModelView")


def _filters(view: Any, extra: list[tuple[str, Any, str]]) -> Any:
    flt = view.datamodel.get_filters(view.search_columns)
    flt.add_filter_list(view.base_filters)  # the row rule, as the list page applies it
    for column, cls, value in extra:
        flt.add_filter(column, cls, value)
    return flt


def _page_ids(iface: Any, view: Any, extra: list, order: tuple[str, str], number: int) -> list[int]:
    _count, items = iface.query(_filters(view, extra), order[0], order[1], page=number, page_size=SIZE)
    db.session.rollback()
    return [c.id for c in items]


def _check_pages(app: Any, username: str, extra: list, orders: list[tuple[str, str]] = ORDERS) -> int:
    """Compare ours with stock FAB for every order and page; return how many rows were compared."""
    compared = 0
    with app.test_request_context("/customers/list/"):
        g.user = appbuilder.sm.find_user(username=username)
        view = _view()
        stock = SQLAInterface(Customer, session=db.session)
        for order in orders:
            for number in PAGES:
                expected = _page_ids(stock, view, extra, order, number)
                assert _page_ids(view.datamodel, view, extra, order, number) == expected, (order, number)
                compared += len(expected)
    return compared


def test_every_order_and_page_equals_offset(app, customers):
    assert _check_pages(app, "admin2", []) > 200


def test_filters_equal_offset(app, customers):
    assert _check_pages(app, "manager", [("city", FilterEqual, "北京")]) > 0
    assert _check_pages(app, "manager", [("name", FilterContains, "王")]) > 0


@pytest.mark.parametrize("cap", [10, 1000])
def test_searches_by_id_equal_offset_below_and_above_the_count_cap(app, customers, monkeypatch, cap):
    """A search ordered by id takes its count and page from one query while its matches fit
    under the count cap, and queries the page apart when they do not: both give OFFSET's rows."""
    monkeypatch.setitem(app.config, "CRM_COUNT_CAP", cap)
    by_id = [("id", "desc"), ("id", "asc")]
    assert _check_pages(app, "manager", [("city", FilterEqual, "北京")], by_id) > 0
    assert _check_pages(app, "sales1", [("name", FilterContains, "王")], by_id) > 0
    with app.test_request_context("/customers/list/"):
        g.user = appbuilder.sm.find_user(username="manager")
        view = _view()
        count, _items = view.datamodel.query(_filters(view, [("city", FilterEqual, "北京")]), "id", "desc",
                                             page=0, page_size=SIZE)
        db.session.rollback()
    beijing = sum(1 for n in range(42) if n % 3)
    assert count == (beijing if beijing <= cap else cap + 1)  # the pager's "at least" when capped


def test_sales_deep_pages_show_only_own_rows(app, customers):
    _check_pages(app, "sales1", [])
    with app.test_request_context("/customers/list/"):
        g.user = appbuilder.sm.find_user(username="sales1")
        view = _view()
        seen = []
        for number in range(0, 30 // SIZE + 1):
            seen += _page_ids(view.datamodel, view, [], ("name", "asc"), number)
    assert sorted(seen) == sorted(customers["sales1"])


def test_inserts_and_deletes_between_pages(app, make, customers):
    with app.test_request_context("/customers/list/"):
        g.user = appbuilder.sm.find_user(username="manager")
        view = _view()
        stock = SQLAInterface(Customer, session=db.session)
        order = ("name", "asc")
        for number in (5, 6, 7):  # anchors on pages 5–7
            _page_ids(view.datamodel, view, [], order, number)
    make.customer("sales1", name="白一")  # sorts first: every later row moves down one place
    with app.app_context():
        db.session.execute(text("DELETE FROM customer WHERE id = :id"), {"id": customers["sales2"][0]})
        db.session.commit()
    with app.test_request_context("/customers/list/"):
        g.user = appbuilder.sm.find_user(username="manager")
        for number in (6, 5, 7, 8, 4):
            expected = _page_ids(stock, view, [], order, number)
            assert _page_ids(view.datamodel, view, [], order, number) == expected, number


def test_a_write_this_process_did_not_see_is_picked_up_after_the_ttl(app, customers, monkeypatch):
    """Another process's commit: no engine event here. On PostgreSQL the statistics counters may
    already show it; in any case the anchors expire after CRM_KEYSET_TTL."""
    with app.test_request_context("/customers/list/"):
        g.user = appbuilder.sm.find_user(username="manager")
        view = _view()
        order = ("id", "desc")
        before = _page_ids(view.datamodel, view, [], order, 5)
        with monkeypatch.context() as m:
            m.setattr(keyset, "_bump", lambda tables: None)  # as if written elsewhere
            newest = db.session.execute(select(Customer.id).order_by(Customer.id.desc()).limit(1)).scalar()
            db.session.execute(text("DELETE FROM customer WHERE id = :id"), {"id": newest})
            db.session.commit()
        monkeypatch.setitem(app.config, "CRM_KEYSET_TTL", 0)
        stock = SQLAInterface(Customer, session=db.session)
        after = _page_ids(view.datamodel, view, [], order, 5)
        assert after == _page_ids(stock, view, [], order, 5)
        assert after != before  # everything moved up one place


@pytest.mark.parametrize("forward", [True, False])
def test_estimated_count_counts_once_near_the_end(app, customers, forward):
    """With a PostgreSQL estimate as the count (here: a wrong one), pages near the end come from
    an exact count and a walk back from the end, and still equal OFFSET."""
    with app.test_request_context("/customers/list/"):
        g.user = appbuilder.sm.find_user(username="manager")
        base = db.session.query(Customer).with_entities(Customer.id)
        order = keyset.order_of(Customer, "name", "asc" if forward else "desc")
        expected_all = [r[0] for r in base.order_by(*order.order_by()).all()]
        for offset in (40, 36, 41, 20, 42, 44):
            got = keyset.page_ids(db.session, base, order, offset, SIZE, count=45, exact=False)
            assert got == expected_all[offset:offset + SIZE], offset


def test_nullable_and_related_orders_keep_offset():
    assert keyset.order_of(Customer, "city", "asc") is None  # NULL cities: no row comparison
    assert keyset.order_of(Customer, "owner.username", "asc") is None
    assert keyset.order_of(Customer, "", "") is None
    assert keyset.order_of(Customer, "name", "desc") is not None


def test_list_page_and_api_deep_pages_as_sales(app, as_user, customers):
    """Through HTTP: the list page and the API give sales1's own customers, page after page."""
    client = as_user("sales1")
    names: set[int] = set()
    for number in range(0, 8):
        resp = client.get("/api/v1/customers/", query_string={
            "q": q(page=number, page_size=SIZE, order_column="name", order_direction="asc")})
        assert resp.status_code == 200
        names |= {row["id"] for row in resp.get_json()["result"]}
    assert names == set(customers["sales1"])
    html = page(client.get("/customers/list/?page_CustomerModelView=6&psize_CustomerModelView=4"
                           "&_oc_CustomerModelView=name&_od_CustomerModelView=asc"))
    rows = {int(pk) for pk in re.findall(r"/customers/(?:show|edit)/(\d+)", html)}
    assert len(rows) == 4
    assert rows <= set(customers["sales1"])
