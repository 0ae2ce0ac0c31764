"""Line state changes through the page and the API: each one a service call with history."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.business_change import BusinessChange
from app.models.subscription import Subscription, SubscriptionVas
from app.services import catalog, subscriptions
from app.services.care import business_date
from tests.factories import make_customer, make_plan


def _line(actor, owner="clerk1"):
    who = actor(owner)
    customer = make_customer(who)
    plan = make_plan(actor("manager"))
    line = subscriptions.open_line({"customer_id": customer.id, "plan_id": plan.id, "number": customer.mobile,
                                    "effective_date": "2026-01-01"}, who)
    return customer, plan, line


def test_change_plan_page_records_change_effective_next_month(ctx, actor, as_user):
    customer, _, line = _line(actor)
    new_plan = make_plan(actor("manager"), monthly_fee="99.00")
    client = as_user("clerk1")
    page = client.get(f"/subscriptions/{line.id}/change-plan")
    assert page.status_code == 200 and new_plan.name in page.get_data(as_text=True)
    resp = client.post(f"/subscriptions/{line.id}/change-plan", data={"plan_id": new_plan.id, "reason": "升档"})
    assert resp.status_code == 302 and f"/customer360/{customer.id}" in resp.headers["Location"]
    change = db.session.execute(
        select(BusinessChange).where(BusinessChange.change_type == "plan_change")).scalar_one()
    assert change.effective_date == subscriptions.first_of_next_month(business_date(utcnow()))
    assert change.reason == "升档"
    assert db.session.get(Subscription, line.id).plan_id == new_plan.id


def test_change_plan_page_shows_error_on_field_and_changes_nothing(ctx, actor, as_user):
    _, plan, line = _line(actor)
    client = as_user("clerk1")
    resp = client.post(f"/subscriptions/{line.id}/change-plan", data={"plan_id": plan.id})
    assert resp.status_code == 200
    assert "has-error" in resp.get_data(as_text=True)
    assert db.session.execute(
        select(BusinessChange).where(BusinessChange.change_type == "plan_change")).first() is None


def test_agent_cannot_change_lines(ctx, actor, as_user):
    _, plan, line = _line(actor)
    other = make_plan(actor("manager"))
    client = as_user("agent1")
    client.post(f"/subscriptions/{line.id}/change-plan", data={"plan_id": other.id})
    client.post(f"/subscriptions/{line.id}/status/suspended")
    db.session.expire_all()
    assert db.session.get(Subscription, line.id).plan_id == plan.id
    assert db.session.get(Subscription, line.id).status == "active"


def test_api_suspend_resume_and_bad_input(ctx, actor, api_token, client):
    _, _, line = _line(actor)
    headers = api_token("clerk1")
    resp = client.post(f"/api/v1/subscriptions/{line.id}/change_status", json={"status": "suspended"},
                       headers=headers)
    assert resp.status_code == 200 and resp.get_json()["result"]["status"] == "suspended"
    assert resp.get_json()["result"]["number"] == line.number[:3] + "****" + line.number[-4:]
    again = client.post(f"/api/v1/subscriptions/{line.id}/change_status", json={"status": "suspended"},
                        headers=headers)
    assert again.status_code == 422, again.get_json()
    assert "status" in again.get_json()["message"]
    bad = client.post(f"/api/v1/subscriptions/{line.id}/change_plan", json={"plan_id": "x"}, headers=headers)
    assert bad.status_code == 400 and "plan_id" in bad.get_json()["message"]
    missing = client.post("/api/v1/subscriptions/999999/change_status", json={"status": "active"},
                          headers=headers)
    assert missing.status_code == 404
    kinds = db.session.execute(select(BusinessChange.change_type).order_by(BusinessChange.id)).scalars().all()
    assert kinds == ["open", "suspend"]


def test_sales_cannot_touch_another_salespersons_line(ctx, actor, api_token, client):
    _, _, line = _line(actor, owner="sales1")
    resp = client.post(f"/api/v1/subscriptions/{line.id}/change_status", json={"status": "suspended"},
                       headers=api_token("sales2"))
    assert resp.status_code in (403, 404)
    assert db.session.get(Subscription, line.id).status == "active"


def test_vas_subscribe_and_unsubscribe_write_history(ctx, actor):
    clerk = actor("clerk1")
    _, _, line = _line(actor)
    vas = catalog.create_vas({"code": "CRBT", "name": "彩铃", "monthly_fee": "5.00"}, actor("manager"))
    item = subscriptions.subscribe_vas({"subscription_id": line.id, "vas_id": vas.id}, clerk)
    subscriptions.unsubscribe_vas(item.id, clerk)
    assert db.session.get(SubscriptionVas, item.id).status == "cancelled"
    kinds = db.session.execute(select(BusinessChange.change_type).order_by(BusinessChange.id)).scalars().all()
    assert kinds == ["open", "vas_subscribe", "vas_unsubscribe"]


def test_open_line_history_never_holds_the_full_number(ctx, actor):
    customer, _, _ = _line(actor)
    change = db.session.execute(select(BusinessChange)).scalar_one()
    assert customer.mobile not in change.after
