"""Plans and value-added services: managers maintain them, everyone else reads them."""

from __future__ import annotations

from decimal import Decimal

from app.extensions import db
from app.models.plan import Plan
from tests.http.conftest import form_of, tr

PLAN = {"code": "M59", "name": "畅享59", "plan_type": "mobile", "monthly_fee": "59.00", "voice_minutes": "300",
        "sms_count": "100", "data_mb": "20480", "voice_overage_rate": "0.15", "data_overage_rate": "5.00",
        "contract_months": "12", "active": "y"}


def plans(in_app) -> list[tuple[str, Decimal]]:  # noqa: ANN001
    with in_app():
        return [(p.code, p.monthly_fee) for p in db.session.query(Plan).order_by(Plan.id)]


def test_manager_adds_a_plan_on_the_page(browser, in_app):
    resp = browser("manager").post("/plans/add", data=PLAN)
    assert resp.status_code == 302
    assert plans(in_app) == [("M59", Decimal("59.00"))]


def test_plan_page_errors_land_on_fields(app, browser, in_app):
    resp = browser("manager").post("/plans/add", data=dict(PLAN, monthly_fee="59.999", contract_months="0"))
    assert resp.status_code == 200
    form = form_of(resp)
    assert form.errors["monthly_fee"] == [tr(app, "Amount may have at most 2 decimal places.")]
    assert form.errors["contract_months"] == [tr(app, "Must be at least %(n)d.", n=1)]
    assert form.values["name"] == PLAN["name"] and form.values["monthly_fee"] == "59.999"
    assert plans(in_app) == []


def test_plan_page_duplicate_code_is_an_error_on_code(browser, make, in_app):
    make.plan(code="TAKEN")
    resp = browser("manager").post("/plans/add", data=dict(PLAN, code="TAKEN"))
    assert resp.status_code == 200
    assert "code" in form_of(resp).errors
    assert [c for c, _ in plans(in_app)] == ["TAKEN"]


def test_plan_api_crud_and_errors(client, api_token, make, in_app):
    h = api_token("manager")
    body = {k: v for k, v in PLAN.items() if k != "active"} | {"active": True}
    resp = client.post("/api/v1/plans/", json=body, headers=h)
    assert resp.status_code == 201
    pk, version = resp.get_json()["id"], resp.get_json()["result"]["version"]
    assert resp.get_json()["result"]["monthly_fee"] == "59.00"
    dup = client.post("/api/v1/plans/", json=body, headers=h)
    assert dup.status_code == 422 and "code" in dup.get_json()["message"]
    bad = client.post("/api/v1/plans/", json=dict(body, code="X1", monthly_fee=-1, voice_minutes="lots"), headers=h)
    assert bad.status_code == 422 and set(bad.get_json()["message"]) == {"monthly_fee", "voice_minutes"}
    ok = client.put(f"/api/v1/plans/{pk}", json={"monthly_fee": "49.00", "version": version}, headers=h)
    assert ok.status_code == 200 and ok.get_json()["result"]["monthly_fee"] == "49.00"
    stale = client.put(f"/api/v1/plans/{pk}", json={"monthly_fee": "39.00", "version": version}, headers=h)
    assert stale.status_code == 409
    junk = client.put(f"/api/v1/plans/{pk}", json={"monthly_fee": "39.00", "version": "v2"}, headers=h)
    assert junk.status_code == 422 and "version" in junk.get_json()["message"]
    assert client.put("/api/v1/plans/999999", json={"name": "x"}, headers=h).status_code == 404
    assert plans(in_app) == [("M59", Decimal("49.00"))]


def test_other_roles_read_but_do_not_change_the_catalogue(client, api_token, browser, make):
    plan = make.plan()
    for username in ("sales1", "agent1", "clerk1"):
        h = api_token(username)
        assert client.get("/api/v1/plans/", headers=h).get_json()["ids"] == [plan.id]
        assert client.get("/api/v1/value_added_services/", headers=h).status_code == 200
        assert client.post("/api/v1/plans/", json={"code": "X"}, headers=h).status_code in (401, 403)
        assert client.put(f"/api/v1/plans/{plan.id}", json={"name": "x"}, headers=h).status_code in (401, 403)
        assert browser(username).get("/plans/add").status_code in (302, 403)


def test_vas_api(client, api_token, app):
    h = api_token("manager")
    resp = client.post("/api/v1/value_added_services/", json={"code": "CRBT", "name": "彩铃",
                                                                "monthly_fee": "5.00"}, headers=h)
    assert resp.status_code == 201
    resp = client.post("/api/v1/value_added_services/", json={"code": "", "name": "", "monthly_fee": "x"},
                       headers=h)
    assert resp.status_code == 422
    assert set(resp.get_json()["message"]) == {"code", "name", "monthly_fee"}
    assert resp.get_json()["message"]["code"] == [tr(app, "This field is required.")]
