"""Row rules and role permissions, through pages and API alike (`app/security/access.py`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.extensions import db
from app.models.bill import BillLine
from app.models.usage import UsageRecord
from tests.http.conftest import eq_filter, page

API = "/api/v1"


@pytest.fixture
def world(app, make):  # noqa: ANN001, ANN201
    """sales1 owns `mine`, sales2 owns `theirs`; each has a line, a bill with a line, usage and a payment."""
    plan = make.plan()
    out = {}
    for key, owner in (("mine", "sales1"), ("theirs", "sales2")):
        c = make.customer(owner, name=f"客户-{key}")
        line = make.line(c, plan)
        bill = make.bill(c, "88.00")
        with app.app_context():
            db.session.add(BillLine(bill_id=bill.id, item_type="base", description=f"月租-{key}",
                                    amount=Decimal("88.00")))
            db.session.add(UsageRecord(customer_id=c.id, subscription_id=line.id, month=dt.date(2026, 1, 1),
                                       voice_minutes=100, sms_count=10, data_mb=1024))
            db.session.commit()
            from app.services import payments
            from tests.conftest import actor_for

            pay = payments.record({"customer_id": c.id, "bill_id": bill.id, "amount": "8.00", "method": "cash"},
                                  actor_for("clerk1"))
            pay_id = pay.id
        out[key] = {"customer": c, "line": line, "bill": bill, "payment": pay_id}
    return out


# --- Sales: own customers only -------------------------------------------------------------------

def test_sales_customer_pages_show_only_own(browser, world):
    mine, theirs = world["mine"]["customer"], world["theirs"]["customer"]
    s1 = browser("sales1")
    html = page(s1.get("/customers/list/"))
    assert mine.name in html and theirs.name not in html
    assert s1.get(f"/customer360/{mine.id}").status_code == 200
    assert s1.get(f"/customer360/{theirs.id}").status_code == 404
    assert s1.get(f"/customers/edit/{mine.id}").status_code == 200
    assert s1.get(f"/customers/edit/{theirs.id}").status_code == 404
    assert s1.post(f"/customers/edit/{theirs.id}", data={"name": "hijack"}).status_code == 404
    # Search cannot reach them either.
    html = page(s1.get(f"/customers/list/?_flt_3_mobile={theirs.mobile}"))
    assert theirs.name not in html
    for q in (theirs.mobile, theirs.id_number):
        resp = s1.get("/customer360/search", query_string={"q": q})
        assert f"/customer360/{theirs.id}" not in resp.headers.get("Location", "")
    resp = s1.get("/customer360/search", query_string={"q": mine.mobile})
    assert resp.headers["Location"].endswith(f"/customer360/{mine.id}")


def test_sales_customer_api_shows_only_own(client, api_token, world):
    mine, theirs = world["mine"]["customer"], world["theirs"]["customer"]
    h = api_token("sales1")
    assert client.get(f"{API}/customers/", headers=h).get_json()["ids"] == [mine.id]
    assert client.get(f"{API}/customers/{mine.id}", headers=h).status_code == 200
    assert client.get(f"{API}/customers/{theirs.id}", headers=h).status_code == 404
    assert client.put(f"{API}/customers/{theirs.id}", json={"city": "x"}, headers=h).status_code == 404
    for col, value in (("mobile", theirs.mobile), ("id_number", theirs.id_number)):
        assert client.get(f"{API}/customers/?q=" + eq_filter(col, value), headers=h).get_json()["ids"] == []


def test_sales_cannot_hand_a_customer_to_someone_else(client, api_token, world):
    mine = world["mine"]["customer"]
    other_id = world["theirs"]["customer"].owner_id
    resp = client.put(f"{API}/customers/{mine.id}", json={"owner_id": other_id}, headers=api_token("sales1"))
    assert resp.status_code == 403


RECORD_PAGES = {
    "subscriptions": ("/subscriptions", "line"),
    "bills": ("/bills", "bill"),
    "payments": ("/payments", "payment"),
}


@pytest.mark.parametrize("resource", ["subscriptions", "bills", "payments", "usage_records", "business_changes"])
def test_sales_record_apis_only_cover_own_customers(client, api_token, world, resource):
    mine, theirs = world["mine"]["customer"], world["theirs"]["customer"]
    rows = client.get(f"{API}/{resource}/?q=(page_size:100)", headers=api_token("sales1")).get_json()["result"]
    assert rows, resource
    assert {r["customer_id"] for r in rows} == {mine.id}
    rows = client.get(f"{API}/{resource}/?q=(page_size:100)", headers=api_token("manager")).get_json()["result"]
    assert {r["customer_id"] for r in rows} == {mine.id, theirs.id}


@pytest.mark.parametrize(("resource", "key"), [("subscriptions", "line"), ("bills", "bill"), ("payments", "payment")])
def test_sales_record_api_show_of_another_customers_record_is_404(client, api_token, world, resource, key):
    def pk(item) -> int:  # noqa: ANN001
        return item if isinstance(item, int) else item.id

    h = api_token("sales1")
    assert client.get(f"{API}/{resource}/{pk(world['mine'][key])}", headers=h).status_code == 200
    assert client.get(f"{API}/{resource}/{pk(world['theirs'][key])}", headers=h).status_code == 404


@pytest.mark.parametrize("route", ["/subscriptions", "/bills", "/payments", "/usage", "/business-changes"])
def test_sales_record_pages_only_cover_own_customers(browser, world, route):
    mine, theirs = world["mine"]["customer"], world["theirs"]["customer"]
    html = page(browser("sales1").get(f"{route}/list/"))
    assert mine.name in html and theirs.name not in html
    html = page(browser("manager").get(f"{route}/list/"))
    assert mine.name in html and theirs.name in html


def test_sales_bill_pages_and_bill_lines(browser, world):
    s1 = browser("sales1")
    assert s1.get(f"/bills/show/{world['mine']['bill'].id}").status_code == 200
    assert s1.get(f"/bills/show/{world['theirs']['bill'].id}").status_code == 404
    html = page(s1.get("/bill-lines/list/"))
    assert "月租-mine" in html and "月租-theirs" not in html
    assert s1.get(f"/payments/show/{world['theirs']['payment']}").status_code == 404


# --- Agent: read-only customers ------------------------------------------------------------------

def test_agent_reads_customers_and_360_but_cannot_add_or_edit(browser, client, api_token, world, make):
    mine, theirs = world["mine"]["customer"], world["theirs"]["customer"]
    agent = browser("agent1")
    html = page(agent.get("/customers/list/"))
    assert mine.name in html and theirs.name in html
    assert agent.get(f"/customer360/{theirs.id}").status_code == 200
    assert agent.get("/customers/add").status_code in (302, 403)
    assert agent.post("/customers/add", data=make.data()).status_code in (302, 403)
    assert agent.get(f"/customers/edit/{mine.id}").status_code in (302, 403)
    h = api_token("agent1")
    assert client.get(f"{API}/customers/{theirs.id}", headers=h).status_code == 200
    assert client.post(f"{API}/customers/", json=make.data(), headers=h).status_code in (401, 403)
    assert client.put(f"{API}/customers/{mine.id}", json={"city": "x"}, headers=h).status_code in (401, 403)
    assert client.post(f"{API}/payments/", json={"customer_id": mine.id, "amount": "1", "method": "cash"},
                       headers=h).status_code in (401, 403)


def test_agent_has_no_edit_button_on_360(browser, world):
    html = page(browser("agent1").get(f"/customer360/{world['mine']['customer'].id}"))
    assert "crm-reveal" not in html


# --- Clerk and Manager ---------------------------------------------------------------------------

def test_clerk_adds_and_edits_customers_and_records_payments_but_has_no_audit_log(browser, client, api_token,
                                                                                   world, make):
    clerk = browser("clerk1")
    assert clerk.get("/customers/add").status_code == 200
    assert clerk.get(f"/customers/edit/{world['theirs']['customer'].id}").status_code == 200
    assert clerk.get("/payments/add").status_code == 200
    assert clerk.get("/audit-log/list/").status_code in (302, 403)
    h = api_token("clerk1")
    assert client.get(f"{API}/audit_logs/", headers=h).status_code in (401, 403)
    c = world["mine"]["customer"]
    resp = client.post(f"{API}/payments/", json={"customer_id": c.id, "amount": "5", "method": "alipay"}, headers=h)
    assert resp.status_code == 201


def test_manager_sees_everything_including_the_audit_log(browser, client, api_token, world):
    manager = browser("manager")
    html = page(manager.get("/customers/list/"))
    assert world["mine"]["customer"].name in html and world["theirs"]["customer"].name in html
    resp = manager.get("/audit-log/list/")
    assert resp.status_code == 200 and "clerk1" in page(resp)
    body = client.get(f"{API}/audit_logs/", headers=api_token("manager")).get_json()
    assert body["count"] > 0


@pytest.mark.parametrize("username", ["admin2", "manager", "clerk1", "sales1", "agent1"])
def test_nobody_can_change_or_delete_audit_entries(client, api_token, browser, world, username, app):
    from tests.http.conftest import audit_rows

    entry = audit_rows(app)[0]
    h = api_token(username)
    assert client.put(f"{API}/audit_logs/{entry.id}", json={"action": "login"}, headers=h).status_code in (403, 405)
    assert client.delete(f"{API}/audit_logs/{entry.id}", headers=h).status_code in (403, 405)
    assert client.post(f"{API}/audit_logs/", json={"action": "login"}, headers=h).status_code in (403, 405)
    ui = browser(username)
    for url in (f"/audit-log/edit/{entry.id}", f"/audit-log/delete/{entry.id}", "/audit-log/add"):
        assert ui.get(url).status_code in (302, 403, 404, 405), url
        assert ui.post(url, data={"action": "login"}).status_code in (302, 403, 404, 405), url
    after = audit_rows(app)[0]
    assert (after.id, after.action, after.changes) == (entry.id, entry.action, entry.changes)


def test_no_role_holds_an_audit_write_permission(app):
    with app.app_context():
        from app.extensions import appbuilder

        for role in appbuilder.sm.get_all_roles():
            if role.name == "Admin":
                continue
            perms = {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}
            for view in ("AuditLogModelView", "AuditLogApi"):
                for perm in ("can_add", "can_edit", "can_delete", "can_post", "can_put"):
                    assert (perm, view) not in perms, (role.name, perm, view)
