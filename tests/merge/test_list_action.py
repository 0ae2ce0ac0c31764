""""Merge…" on the customer list: two ticked rows open the merge page for them; any other number,
or a role that may not merge, gets a clear message and stays on the list."""

from __future__ import annotations

from app.extensions import db
from app.models.customer import Customer
from tests.bulk.conftest import city_arg
from tests.factories import make_customer


def _customers(actor, n: int) -> list[int]:  # noqa: ANN001
    clerk = actor("clerk1")
    return [make_customer(clerk, name="赵六", city="苏州").id for _ in range(n)]


def _merge(web, ids: list[int]):  # noqa: ANN001, ANN202
    return web.post("/customers/action_post", data={"action": "merge", "rowid": [str(i) for i in ids]})


def test_two_selected_rows_open_the_merge_page(ctx, actor, as_user) -> None:
    a, b = _customers(actor, 2)
    web = as_user("clerk1")
    listing = web.get(f"/customers/list/?{city_arg('苏州')}").get_data(as_text=True)
    # The list offers the action (FAB's "Actions" menu) and a checkbox per row.
    assert "merge_menu_item" in listing and "合并…" in listing
    assert f'name="rowid" value="{a}"' in listing and f'name="rowid" value="{b}"' in listing

    resp = _merge(web, [b, a])
    # The older record is offered as the survivor, whatever the order of the ticks.
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/customer-merge/{a}/with/{b}")
    page = web.get(resp.headers["Location"])
    assert page.status_code == 200 and 'id="crm-merge-form"' in page.get_data(as_text=True)
    # Nothing is merged until the user confirms there.
    assert db.session.get(Customer, a) is not None and db.session.get(Customer, b) is not None


def test_one_or_three_rows_give_a_message_and_stay_on_the_list(ctx, actor, as_user) -> None:
    ids = _customers(actor, 3)
    web = as_user("clerk1")
    web.get(f"/customers/list/?{city_arg('苏州')}")
    for chosen in (ids[:1], ids, [ids[0], ids[0]]):
        resp = _merge(web, chosen)
        assert resp.status_code == 302 and "/customer-merge/" not in resp.headers["Location"]
        assert "/customers/list/" in resp.headers["Location"]
        page = web.get(resp.headers["Location"]).get_data(as_text=True)
        n = len(set(chosen))
        assert f"请恰好勾选两个客户进行合并（当前勾选了 {n} 个）" in page
    assert all(db.session.get(Customer, i) is not None for i in ids)


def test_a_role_that_may_not_merge_gets_no_action(ctx, actor, as_user) -> None:
    from tests.bulk.conftest import make_customers

    a, b = make_customers(2, "苏州", owner="sales1")
    web = as_user("sales1")
    listing = web.get("/customers/list/").get_data(as_text=True)
    assert "merge_menu_item" not in listing
    resp = _merge(web, [a, b])
    assert resp.status_code == 302 and "/customer-merge/" not in resp.headers["Location"]
    assert "您无权合并客户" in web.get(resp.headers["Location"]).get_data(as_text=True)
    assert db.session.get(Customer, a) is not None and db.session.get(Customer, b) is not None
