"""Payments through the page and the API settle the bill; bills and history are read-only."""

from __future__ import annotations

from decimal import Decimal

from app.extensions import db
from app.models.bill import Bill
from app.models.payment import Payment
from tests.http.conftest import audit_rows, form_of, tr


def bill_state(in_app, bill_id: int) -> tuple[Decimal, str]:  # noqa: ANN001
    with in_app():
        b = db.session.get(Bill, bill_id)
        return b.paid_amount, b.status


def payment_count(in_app) -> int:  # noqa: ANN001
    with in_app():
        return db.session.query(Payment).count()


def test_payment_page_settles_the_bill(app, browser, make, in_app):
    c = make.customer("clerk1")
    bill = make.bill(c, "100.00")
    clerk = browser("clerk1")
    assert clerk.get("/payments/add").status_code == 200
    resp = clerk.post("/payments/add", data={"customer": c.id, "bill": bill.id, "amount": "30.00",
                                             "method": "cash", "reference": "R-1"})
    assert resp.status_code == 302
    assert bill_state(in_app, bill.id) == (Decimal("30.00"), "partial")
    resp = clerk.post("/payments/add", data={"customer": c.id, "bill": bill.id, "amount": "70", "method": "wechat"})
    assert resp.status_code == 302
    assert bill_state(in_app, bill.id) == (Decimal("100.00"), "paid")
    assert [a.actor_name for a in audit_rows(app, "create") if a.entity == "payment"] == ["clerk1", "clerk1"]


def test_payment_page_refuses_more_than_outstanding_on_the_amount_field(app, browser, make, in_app):
    c = make.customer("clerk1")
    bill = make.bill(c, "100.00")
    resp = browser("clerk1").post("/payments/add", data={"customer": c.id, "bill": bill.id, "amount": "100.01",
                                                         "method": "cash", "reference": "R-2"})
    assert resp.status_code == 200
    form = form_of(resp)
    assert form.errors["amount"] == [tr(app, "Amount exceeds the bill's outstanding %(amount)s.", amount="100.00")]
    assert form.values["amount"] == "100.01" and form.values["reference"] == "R-2"
    assert bill_state(in_app, bill.id) == (Decimal("0.00"), "unpaid")
    assert payment_count(in_app) == 0


def test_payment_api_settles_and_refuses_overpayment_with_422_naming_amount(client, api_token, make, in_app):
    c = make.customer("clerk1")
    bill = make.bill(c, "59.90")
    h = api_token("clerk1")
    resp = client.post("/api/v1/payments/", json={"customer_id": c.id, "bill_id": bill.id, "amount": "59.91",
                                                  "method": "cash"}, headers=h)
    assert resp.status_code == 422 and list(resp.get_json()["message"]) == ["amount"]
    assert payment_count(in_app) == 0
    resp = client.post("/api/v1/payments/", json={"customer_id": c.id, "bill_id": bill.id, "amount": "19.90",
                                                  "method": "alipay"}, headers=h)
    assert resp.status_code == 201 and resp.get_json()["result"]["amount"] == "19.90"
    assert client.get(f"/api/v1/bills/{bill.id}", headers=h).get_json()["result"]["status"] == "partial"
    resp = client.post("/api/v1/payments/", json={"customer_id": c.id, "bill_id": bill.id, "amount": 40,
                                                  "method": "card"}, headers=h)
    assert resp.status_code == 201
    result = client.get(f"/api/v1/bills/{bill.id}", headers=h).get_json()["result"]
    assert (result["paid_amount"], result["status"]) == ("59.90", "paid")
    # A paid bill takes nothing more.
    resp = client.post("/api/v1/payments/", json={"customer_id": c.id, "bill_id": bill.id, "amount": "0.01",
                                                  "method": "cash"}, headers=h)
    assert resp.status_code == 422 and "amount" in resp.get_json()["message"]


def test_payment_api_field_errors(client, api_token, make):
    c = make.customer("clerk1")
    h = api_token("clerk1")
    resp = client.post("/api/v1/payments/", json={"customer_id": c.id, "bill_id": "abc", "amount": "1.001",
                                                  "method": "gold"}, headers=h)
    assert resp.status_code == 422
    assert set(resp.get_json()["message"]) == {"bill_id", "amount", "method"}
    resp = client.post("/api/v1/payments/", json={"customer_id": c.id, "amount": "1", "method": "cash",
                                                  "operator_id": 1}, headers=h)
    assert resp.status_code == 400  # the operator is whoever is signed in, never sent


def test_bills_and_history_are_read_only(client, api_token, make):
    c = make.customer("clerk1")
    bill = make.bill(c)
    h = api_token("manager")
    assert client.put(f"/api/v1/bills/{bill.id}", json={"status": "paid"}, headers=h).status_code in (403, 405)
    assert client.delete(f"/api/v1/bills/{bill.id}", headers=h).status_code in (403, 405)
    assert client.post("/api/v1/business_changes/", json={"customer_id": c.id}, headers=h).status_code in (403, 405)
