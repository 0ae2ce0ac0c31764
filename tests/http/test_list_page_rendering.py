"""List pages render FAB's markup with the parts that are the same for everyone built once
(app/views/widgets.py, app/views/page_cache.py): the same links as stock FAB, menus that follow
the user's permissions at once, search drop-downs that follow the data."""

from __future__ import annotations

import enum
import json
import re
from types import SimpleNamespace

import pytest
from flask_appbuilder.widgets import ListWidget

from app.extensions import appbuilder
from app.services import leads
from app.views.customers import CustomerModelView
from app.views.fab_speedups import _get_attr_value_once
from app.views.sales import LeadModelView
from tests.conftest import actor_for
from tests.factories import make_customer, make_plan

ROW_LINKS = re.compile(r'href="(/[a-z_-]+/(?:show|edit)/\d+[^"]*)"|id="(btn-delete-[^"]+)"')


def _row_links(html: str) -> list[str]:
    body = html[html.index("</thead>"):]
    return [a or b for a, b in ROW_LINKS.findall(body)]


@pytest.mark.parametrize(("view", "url"), [(CustomerModelView, "/customers/list/"), (LeadModelView, "/leads/list/")])
def test_row_buttons_are_the_ones_stock_fab_renders(ctx, as_user, monkeypatch, view, url):
    admin = actor_for("admin2")
    make_customer(admin, name="张三")
    make_customer(admin, name="李四")
    leads.create({"name": "王五", "mobile": "13900001111", "source": "website"}, actor_for("sales1"))
    client = as_user("admin2")
    ours = _row_links(client.get(url).get_data(as_text=True))
    monkeypatch.setattr(view, "list_widget", ListWidget)
    stock = _row_links(client.get(url).get_data(as_text=True))
    assert ours == stock
    # Both views declare `<pk>` differently (the lead routes take numbers only): show links exist.
    assert any("/show/" in link for link in ours)


def test_each_user_gets_the_menu_of_their_own_roles(ctx, as_user):
    admin_page = as_user("admin2").get("/customers/list/").get_data(as_text=True)
    clerk_page = as_user("clerk1").get("/customers/list/").get_data(as_text=True)
    assert 'href="/users/list/"' in admin_page
    assert 'href="/users/list/"' not in clerk_page
    # The user's own name is in the menu bar: never another user's.
    assert "clerk1" not in admin_page.split("</header>")[0]


def test_a_role_permission_change_shows_in_the_menu_at_once(ctx, as_user):
    sm = appbuilder.sm
    clerk = sm.find_role("Clerk")
    # The "Users" entry sits in the "Security" menu: a role sees it with both.
    menus = [sm.find_permission_view_menu("menu_access", name) for name in ("Security", "List Users")]
    assert all(m is not None and m not in clerk.permissions for m in menus)
    client = as_user("clerk1")
    assert 'href="/users/list/"' not in client.get("/customers/list/").get_data(as_text=True)
    for m in menus:
        sm.add_permission_role(clerk, m)
    try:
        assert 'href="/users/list/"' in client.get("/customers/list/").get_data(as_text=True)
    finally:
        for m in menus:
            sm.del_permission_role(clerk, m)
    assert 'href="/users/list/"' not in client.get("/customers/list/").get_data(as_text=True)


def test_the_search_form_lists_a_plan_added_after_it_was_first_shown(ctx, as_user):
    client = as_user("admin2")
    client.get("/customers/list/")  # the search form is built and kept
    make_plan(actor_for("admin2"), name="新春特惠套餐")
    # The filter inputs reach the page inside a JSON literal (non-ASCII escaped).
    assert json.dumps("新春特惠套餐")[1:-1] in client.get("/customers/list/").get_data(as_text=True)


def test_the_search_form_follows_the_language(ctx, as_user):
    client = as_user("admin2")
    assert "添加过滤条件" in client.get("/customers/list/").get_data(as_text=True)
    client.get("/lang/en")
    english = client.get("/customers/list/").get_data(as_text=True)
    assert "Add Filter" in english and "添加过滤条件" not in english
    client.get("/lang/zh")


class _Colour(enum.Enum):
    RED = "red"


class _Row:
    reads = 0
    colour = _Colour.RED
    owner = SimpleNamespace(name="sales1")

    @property
    def label(self) -> str:
        _Row.reads += 1
        return "已转化"

    @property
    def broken(self) -> str:
        raise AttributeError("no such thing")

    def greeting(self) -> str:
        return "你好"


def test_a_row_value_is_read_once_with_fabs_meaning():
    row = _Row()
    assert _get_attr_value_once(row, "label") == "已转化" and _Row.reads == 1
    assert _get_attr_value_once(row, "greeting") == "你好"  # a method is called
    assert _get_attr_value_once(row, "colour") == "red"  # an enum shows its value
    assert _get_attr_value_once(row, "owner.name") == "sales1"  # an inner attribute
    assert _get_attr_value_once(row, "owner.missing") == ""
    assert _get_attr_value_once(row, "broken") == ""


def test_row_labels_follow_the_language_page_by_page(ctx, as_user):
    # Status and carrier labels are looked up once per language and kept (app.labels.text_of):
    # each language must still get its own words, in either order.
    make_customer(actor_for("admin2"), name="赵六", mobile="13800138000")
    client = as_user("admin2")

    def row() -> str:
        html = client.get("/customers/list/").get_data(as_text=True)
        return html[html.index("赵六"):][:2000]

    assert "正常" in row() and "中国移动" in row()
    client.get("/lang/en")
    try:
        english = row()
        assert "Active" in english and "China Mobile" in english and "正常" not in english
    finally:
        client.get("/lang/zh")
    assert "正常" in row() and "Active" not in row()
