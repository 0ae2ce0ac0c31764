"""The merge journey through the FAB test client: 360 → pick → compare → confirm → survivor's 360,
old links (page and API) leading to the survivor, and the refusals."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models.customer import Customer
from app.models.customer_alias import CustomerAlias
from app.services import customer_merge, customers
from tests.factories import make_customer


def _two(actor, **b):  # noqa: ANN001, ANN003, ANN202
    clerk = actor("clerk1")
    a = make_customer(clerk, name="李四", city="北京")
    other = make_customer(clerk, name="李四", city="广州", email="li4@example.com", **b)
    return a.id, other.id, other.mobile, customers.reveal_value(other), a.version, other.version


def test_clerk_merges_from_the_360_page(ctx, actor, as_user) -> None:
    a_id, b_id, b_mobile, b_id_number, va, vb = _two(actor)
    web = as_user("clerk1")
    page = web.get(f"/customer360/{a_id}").get_data(as_text=True)
    assert f"/customer-merge/{a_id}" in page  # the "Merge with…" button
    pick = web.get(f"/customer-merge/{a_id}?q={b_mobile}")
    assert pick.status_code == 200
    assert f"/customer-merge/{a_id}/with/{b_id}" in pick.get_data(as_text=True)
    by_name = web.get(f"/customer-merge/{a_id}?q=李四").get_data(as_text=True)
    assert f"/with/{b_id}" in by_name and f"/with/{a_id}\"" not in by_name
    compare = web.get(f"/customer-merge/{a_id}/with/{b_id}")
    html = compare.get_data(as_text=True)
    assert compare.status_code == 200
    assert "广州" in html and "li4@example.com" in html
    # Personal data masked as everywhere; the related-record counts are shown.
    assert b_mobile not in html and b_id_number not in html
    assert b_mobile[:3] + "****" + b_mobile[-4:] in html
    assert 'id="crm-merge-counts"' in html
    resp = web.post(f"/customer-merge/{a_id}/with/{b_id}", data={
        "choice_city": "merged", "choice_email": "merged", "choice_name": "survivor",
        "version_survivor": va, "version_merged": vb,
    })
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/customer360/{a_id}")
    landing = web.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"#{b_id}" in landing  # the flash names the merged customer
    db.session.expire_all()
    survivor = db.session.get(Customer, a_id)
    assert survivor.city == "广州" and survivor.email == "li4@example.com"
    assert db.session.get(Customer, b_id) is None
    # The merged customer's old 360 link leads to the survivor.
    old = web.get(f"/customer360/{b_id}")
    assert old.status_code == 302 and old.headers["Location"].endswith(f"/customer360/{a_id}")


def test_api_old_id_redirects_to_the_survivor(ctx, actor, client, api_token) -> None:
    a_id, b_id, *_ = _two(actor)
    customer_merge.merge(a_id, b_id, {}, actor("clerk1"))
    headers = api_token("manager")
    resp = client.get(f"/api/v1/customers/{b_id}", headers=headers)
    assert resp.status_code == 308
    assert resp.headers["Location"].endswith(f"/api/v1/customers/{a_id}")
    followed = client.get(resp.headers["Location"], headers=headers)
    assert followed.status_code == 200 and followed.get_json()["id"] == a_id
    # Writes to the old id are not redirected: they must not change another record.
    assert client.put(f"/api/v1/customers/{b_id}", json={"city": "天津"}, headers=headers).status_code == 404
    # A caller who cannot see the survivor learns nothing: plain 404, as for any unknown id.
    assert client.get(f"/api/v1/customers/{b_id}", headers=api_token("sales1")).status_code == 404
    assert client.get(f"/api/v1/customers/{b_id}").status_code == 401


def test_stale_page_is_a_conflict_and_changes_nothing(ctx, actor, as_user) -> None:
    a_id, b_id, _, _, va, vb = _two(actor)
    customers.update(b_id, {"city": "深圳"}, actor("manager"))
    web = as_user("clerk1")
    resp = web.post(f"/customer-merge/{a_id}/with/{b_id}", data={
        "choice_city": "merged", "version_survivor": va, "version_merged": vb,
    })
    assert resp.status_code == 409
    assert "深圳" in resp.get_data(as_text=True)  # the page shows the current values again
    assert db.session.execute(select(func.count()).select_from(CustomerAlias)).scalar_one() == 0
    assert db.session.get(Customer, b_id) is not None


def test_field_error_is_shown_on_its_row(ctx, actor, as_user) -> None:
    a_id, b_id, *_ = _two(actor)
    web = as_user("clerk1")
    resp = web.post(f"/customer-merge/{a_id}/with/{b_id}", data={
        "choice_id_number": "merged", "choice_birth_date": "survivor",
    })
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'class="has-error danger" data-field="birth_date"' in html
    assert db.session.get(Customer, b_id) is not None


def test_same_customer_twice_and_unknown_ids(ctx, actor, as_user) -> None:
    a_id, *_ = _two(actor)
    web = as_user("manager")
    same = web.get(f"/customer-merge/{a_id}/with/{a_id}", follow_redirects=False)
    assert same.status_code == 302 and same.headers["Location"].endswith(f"/customer-merge/{a_id}")
    assert web.get(f"/customer-merge/{a_id}/with/99999999").status_code == 404
    assert web.get("/customer-merge/99999999").status_code == 404


def test_sales_cannot_merge(ctx, actor, as_user) -> None:
    sales = actor("sales1")
    mine, also_mine = make_customer(sales), make_customer(sales)
    web = as_user("sales1")
    assert "crm-merge-customer" not in web.get(f"/customer360/{mine.id}").get_data(as_text=True)
    for url in (f"/customer-merge/{mine.id}", f"/customer-merge/{mine.id}/with/{also_mine.id}"):
        assert web.get(url).status_code in (302, 403)
    resp = web.post(f"/customer-merge/{mine.id}/with/{also_mine.id}", data={})
    assert resp.status_code in (302, 403)
    assert db.session.get(Customer, also_mine.id) is not None
