"""The `leads`, `opportunities`, `contact_logs` and `orders` APIs: same rules as the pages,
422 naming the field, 404 outside the caller's rows, PII masked."""

from __future__ import annotations

from app.extensions import db
from app.models.order import SalesOrder
from tests.conftest import actor_for
from tests.factories import make_customer, make_plan
from tests.sales.conftest import an_id_number, make_lead, make_opportunity, make_order


def test_leads_api_create_list_and_row_rules(app, client, api_token):
    s1, s2, mgr = api_token("sales1"), api_token("sales2"), api_token("manager")
    bad = client.post("/api/v1/leads/", headers=s1, json={"name": "A", "mobile": "12", "source": "tv"})
    assert bad.status_code == 422 and {"mobile", "source"} <= set(bad.get_json()["message"])
    unknown = client.post("/api/v1/leads/", headers=s1, json={"name": "A", "mobile": "13912345678",
                                                               "source": "website", "colour": "red"})
    assert unknown.status_code == 400 and "colour" in unknown.get_json()["message"]
    idn = an_id_number()
    ok = client.post("/api/v1/leads/", headers=s1, json={"name": "A", "mobile": "13912345678", "source": "website",
                                                          "id_number": idn})
    assert ok.status_code == 201, ok.get_json()
    body = ok.get_json()["result"]
    assert body["mobile"] == "139****5678" and body["id_number"] == idn[:3] + "*" * 11 + idn[-4:]
    lead_id = ok.get_json()["id"]
    dup = client.post("/api/v1/leads/", headers=s2, json={"name": "B", "mobile": "13912345678", "source": "hotline"})
    assert dup.status_code == 422 and "mobile" in dup.get_json()["message"]
    assert client.get(f"/api/v1/leads/{lead_id}", headers=s2).status_code == 404
    assert client.put(f"/api/v1/leads/{lead_id}", headers=s2, json={"notes": "mine"}).status_code == 404
    assert client.get("/api/v1/leads/", headers=s2).get_json()["count"] == 0
    assert client.get("/api/v1/leads/", headers=mgr).get_json()["count"] == 1
    # Reassigning is a manager's action.
    assert client.put(f"/api/v1/leads/{lead_id}", headers=s1,
                      json={"owner": actor_for_id(app, "sales2")}).status_code == 403
    assert client.put(f"/api/v1/leads/{lead_id}", headers=mgr,
                      json={"owner": actor_for_id(app, "sales2")}).status_code == 200
    assert client.get(f"/api/v1/leads/{lead_id}", headers=s2).status_code == 200


def actor_for_id(app, username: str) -> int:  # noqa: ANN001
    with app.app_context():
        return actor_for(username).id


def test_lead_status_and_conversion_through_the_api(app, client, api_token):
    with app.app_context():
        lead_id = make_lead(id_number=an_id_number()).id
    s1 = api_token("sales1")
    resp = client.put(f"/api/v1/leads/{lead_id}", headers=s1, json={"status": "disqualified"})
    assert resp.status_code == 422 and "disqualify_reason" in resp.get_json()["message"]
    assert client.post(f"/api/v1/leads/{lead_id}/convert", headers=api_token("sales2"), json={}).status_code == 404
    resp = client.post(f"/api/v1/leads/{lead_id}/convert", headers=s1, json={"expected_revenue": "-5"})
    assert resp.status_code == 422 and "expected_revenue" in resp.get_json()["message"]
    resp = client.post(f"/api/v1/leads/{lead_id}/convert", headers=s1, json={"expected_revenue": "300"})
    assert resp.status_code == 201
    opp = client.get(f"/api/v1/opportunities/{resp.get_json()['id']}", headers=s1).get_json()["result"]
    assert opp["stage"] == "potential" and opp["lead_id"] == lead_id


def test_opportunities_api_stage_rules(app, client, api_token):
    with app.app_context():
        opp_id = make_opportunity().id
        customer_id = make_customer(actor_for("sales2")).id
    s1 = api_token("sales1")
    resp = client.put(f"/api/v1/opportunities/{opp_id}", headers=s1, json={"stage": "won"})
    assert resp.status_code == 422 and "stage" in resp.get_json()["message"]
    resp = client.put(f"/api/v1/opportunities/{opp_id}", headers=s1, json={"stage": "lost"})
    assert resp.status_code == 422 and "lost_reason" in resp.get_json()["message"]
    resp = client.put(f"/api/v1/opportunities/{opp_id}", headers=s1, json={"stage": "intent"})
    assert resp.status_code == 200 and resp.get_json()["result"]["stage"] == "intent"
    assert client.put(f"/api/v1/opportunities/{opp_id}", headers=api_token("sales2"),
                      json={"stage": "negotiation"}).status_code == 404
    # Creating on someone else's customer: that customer is not one of mine.
    resp = client.post("/api/v1/opportunities/", headers=s1, json={"customer_id": customer_id, "name": "x"})
    assert resp.status_code == 422 and "customer_id" in resp.get_json()["message"]


def test_contact_logs_api(app, client, api_token):
    with app.app_context():
        lead_id = make_lead().id
    s1, s2 = api_token("sales1"), api_token("sales2")
    resp = client.post("/api/v1/contact_logs/", headers=s1, json={"lead_id": lead_id, "method": "fax", "content": ""})
    assert resp.status_code == 422 and {"method", "content"} <= set(resp.get_json()["message"])
    resp = client.post("/api/v1/contact_logs/", headers=s2,
                       json={"lead_id": lead_id, "method": "phone", "content": "x"})
    assert resp.status_code == 422 and "lead_id" in resp.get_json()["message"]
    resp = client.post("/api/v1/contact_logs/", headers=s1, json={
        "lead_id": lead_id, "method": "phone", "content": "called", "next_contact_date": "2099-01-01"})
    assert resp.status_code == 201 and resp.get_json()["result"]["follow_up_task_id"]
    log_id = resp.get_json()["id"]
    assert client.get(f"/api/v1/contact_logs/{log_id}", headers=s2).status_code == 404
    assert client.get("/api/v1/contact_logs/", headers=s1).get_json()["count"] == 1
    tasks = client.get("/api/v1/care_tasks/", headers=s1).get_json()
    assert tasks["count"] == 1 and tasks["result"][0]["due_date"] == "2099-01-01"


def test_orders_api_state_machine(app, client, api_token):
    with app.app_context():
        opp_id = make_opportunity(stage="won").id
        plan_id = make_plan(actor_for("manager")).id
    s1, mgr = api_token("sales1"), api_token("manager")
    resp = client.post("/api/v1/orders/", headers=s1, json={"opportunity_id": opp_id, "lines": []})
    assert resp.status_code == 422 and "lines" in resp.get_json()["message"]
    resp = client.post("/api/v1/orders/", headers=s1, json={"opportunity_id": opp_id, "lines": [
        {"kind": "plan", "plan_id": plan_id, "number": "13700003333", "unit_price": "40.00"}]})
    assert resp.status_code == 201, resp.get_json()
    order_id = resp.get_json()["id"]
    assert resp.get_json()["result"]["lines"][0]["number"] == "137****3333"
    assert client.put(f"/api/v1/orders/{order_id}", headers=s1, json={"state": "approved"}).status_code == 422
    assert client.put(f"/api/v1/orders/{order_id}", headers=s1, json={"state": "submitted"}).status_code == 200
    assert client.put(f"/api/v1/orders/{order_id}", headers=s1, json={"state": "approved"}).status_code == 403
    assert client.put(f"/api/v1/orders/{order_id}", headers=api_token("sales2"),
                      json={"state": "approved"}).status_code == 404
    assert client.put(f"/api/v1/orders/{order_id}", headers=mgr, json={"state": "approved"}).status_code == 200
    resp = client.put(f"/api/v1/orders/{order_id}", headers=s1, json={"notes": "cheaper please"})
    assert resp.status_code == 422 and "notes" in resp.get_json()["message"]
    client.put(f"/api/v1/orders/{order_id}", headers=s1, json={"state": "delivered"})
    resp = client.put(f"/api/v1/orders/{order_id}", headers=s1, json={"state": "collected"})
    assert resp.status_code == 422 and "method" in resp.get_json()["message"]
    resp = client.put(f"/api/v1/orders/{order_id}", headers=s1, json={"state": "collected", "method": "alipay"})
    assert resp.status_code == 200 and resp.get_json()["result"]["payment_id"]
    with app.app_context():
        assert db.session.get(SalesOrder, order_id).lines[0].subscription_id


def test_api_lists_never_leak_other_rows(app, client, api_token):
    with app.app_context():
        make_order("sales2", number="13700004444")
    s1 = api_token("sales1")
    for resource in ("leads", "opportunities", "contact_logs", "orders"):
        resp = client.get(f"/api/v1/{resource}/", headers=s1)
        assert resp.status_code == 200 and resp.get_json()["count"] == 0, resource
    assert client.get("/api/v1/orders/", headers=api_token("manager")).get_json()["count"] == 1
    for user in ("agent1", "clerk1"):
        assert client.get("/api/v1/leads/", headers=api_token(user)).status_code in (401, 403)


def test_api_descriptions_do_not_list_other_peoples_records(app, client, api_token):
    with app.app_context():
        make_opportunity("sales2", name="Secret deal of sales2")
    s1 = api_token("sales1")
    for resource in ("leads", "opportunities", "contact_logs", "orders"):
        resp = client.get(f"/api/v1/{resource}/_info", headers=s1)
        assert resp.status_code == 200, resource
        assert "Secret deal" not in resp.get_data(as_text=True)
    spec = client.get("/api/v1/_openapi", headers=s1)
    assert spec.status_code == 200 and "/leads/{pk}/convert" in spec.get_data(as_text=True)
