"""Care rules are configured by managers, validated by the service, in the UI and the API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.care import CareRule
from app.services import care_rules
from app.services.errors import Invalid
from tests.care.conftest import add_task, customer, rule


def test_rule_fields_are_validated(ctx, actor):
    with pytest.raises(Invalid) as exc:
        care_rules.create({"code": "x", "name": "", "kind": "nonsense", "owner_role": "Nobody",
                           "lead_days": "-1", "target_segment": "vip"}, actor("manager"))
    assert {"name", "kind", "owner_role", "lead_days", "target_segment"} <= set(exc.value.errors)
    with pytest.raises(Invalid) as exc:
        care_rules.create({"code": "y", "name": "Y", "kind": "arrears", "owner_role": "Agent",
                           "params": '{"min_days": 30, "escalate_days": 10}'}, actor("manager"))
    assert list(exc.value.errors) == ["params"]
    with pytest.raises(Invalid) as exc:
        care_rules.create({"code": "z", "name": "Z", "kind": "new_customer", "owner_role": "Sales",
                           "params": "not json"}, actor("manager"))
    assert list(exc.value.errors) == ["params"]
    with pytest.raises(Invalid) as exc:
        care_rules.create({"code": "arrears_reminder", "name": "Dup", "kind": "birthday", "owner_role": "Agent"},
                          actor("manager"))
    assert "code" in exc.value.errors


def test_params_get_the_kinds_defaults_and_a_rule_with_tasks_is_not_deleted(ctx, actor):
    r = care_rules.create({"code": "renewal", "name": "Renewal call", "kind": "plan_expiry",
                           "owner_role": "Sales", "params": '{"offsets": [14]}'}, actor("manager"))
    assert json.loads(r.params) == {"offsets": [14], "offer": ""}
    add_task(customer(), "renewal", __import__("datetime").date(2026, 3, 1), "sales1")
    with pytest.raises(Invalid):
        care_rules.delete(r.id, actor("manager"))
    db.session.rollback()
    fresh = care_rules.create({"code": "tmp", "name": "Tmp", "kind": "birthday", "owner_role": "Agent"},
                              actor("manager"))
    care_rules.delete(fresh.id, actor("manager"))
    assert db.session.execute(select(CareRule).where(CareRule.code == "tmp")).first() is None


def test_rules_page_is_for_managers(app, as_user):
    client = as_user("manager")
    listing = client.get("/care-rules/list/")
    assert listing.status_code == 200 and "arrears_reminder" in listing.get_data(as_text=True)
    resp = client.post("/care-rules/add", data={"code": "web_rule", "name": "Web rule", "kind": "periodic",
                                                "params": '{"interval_days": 3}', "action": "task",
                                                "owner_role": "Sales", "lead_days": "0", "max_attempts": "3",
                                                "retry_days": "2", "enabled": "y"})
    assert resp.status_code == 200  # the form again, with the error on `params`
    with app.app_context():
        assert db.session.execute(select(CareRule).where(CareRule.code == "web_rule")).first() is None
    resp = client.post("/care-rules/add", data={"code": "web_rule", "name": "Web rule", "kind": "periodic",
                                                "params": '{"interval_days": 30}', "action": "task",
                                                "owner_role": "Sales", "lead_days": "1", "max_attempts": "3",
                                                "retry_days": "2", "enabled": "y"})
    assert resp.status_code == 302
    with app.app_context():
        assert rule("web_rule").lead_days == 1
    for username in ("sales1", "agent1", "clerk1"):
        assert as_user(username).get("/care-rules/list/").status_code in (302, 403)


def test_rules_api(app, client, api_token):
    manager = api_token("manager")
    resp = client.get("/api/v1/care_rules/", headers=manager)
    assert resp.status_code == 200 and resp.get_json()["count"] == 6
    bad = client.post("/api/v1/care_rules/", headers=manager,
                      json={"code": "api", "name": "API", "kind": "birthday", "owner_role": "Boss"})
    assert bad.status_code == 422 and "owner_role" in bad.get_json()["message"]
    ok = client.post("/api/v1/care_rules/", headers=manager,
                     json={"code": "api", "name": "API", "kind": "birthday", "owner_role": "Agent"})
    assert ok.status_code == 201, ok.get_json()
    assert client.get("/api/v1/care_rules/", headers=api_token("sales1")).status_code in (401, 403)


def test_rule_edit_form_and_show_page_render(app, as_user):
    with app.app_context():
        rid = rule("plan_expiry_reminder").id
    client = as_user("manager")
    edit = client.get(f"/care-rules/edit/{rid}")
    assert edit.status_code == 200 and "offsets" in edit.get_data(as_text=True)
    assert client.get(f"/care-rules/show/{rid}").status_code == 200
    resp = client.post(f"/care-rules/edit/{rid}", data={
        "code": "plan_expiry_reminder", "name": "Plan expiry reminder", "kind": "plan_expiry",
        "params": '{"offsets": [60, 30, 7]}', "action": "task", "owner_role": "Sales", "lead_days": "0",
        "max_attempts": "3", "retry_days": "2", "enabled": "y"})
    assert resp.status_code == 302
    with app.app_context():
        assert json.loads(rule("plan_expiry_reminder").params)["offsets"] == [7, 30, 60]
    openapi = client.get("/api/v1/_openapi").get_json()
    assert any("care_tasks" in p for p in openapi["paths"])
    assert any("care_rules" in p for p in openapi["paths"])
