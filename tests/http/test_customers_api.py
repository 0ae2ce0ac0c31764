"""The `customers` REST API: masking, validation errors as JSON, versions, filters, reveal, OpenAPI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.customer import Customer
from app.services import customers
from tests.http.conftest import audit_rows, eq_filter, q

API = "/api/v1/customers/"
ROLES = ("admin2", "manager", "clerk1", "sales1", "agent1")


def test_login_returns_a_token_and_bad_password_is_refused(client, api_token):
    assert api_token("clerk1")["Authorization"].startswith("Bearer ")
    resp = client.post("/api/v1/security/login", json={"username": "clerk1", "password": "wrong",
                                                       "provider": "db", "refresh": True})
    assert resp.status_code == 401
    assert client.get(API).status_code == 401  # no token, no data


@pytest.mark.parametrize("username", ROLES)
def test_list_and_show_mask_id_and_mobile_for_every_role(client, api_token, make, username):
    c = make.customer("sales1")
    h = api_token(username)
    listed = client.get(API, headers=h).get_json()
    row = next(r for r in listed["result"] if r["id"] == c.id)
    assert row["mobile"] == c.mobile_masked and row["id_number"] == c.id_number_masked
    assert "id_number" in listed["list_columns"] and "id_number_masked" not in listed["list_columns"]
    shown = client.get(f"{API}{c.id}", headers=h).get_json()["result"]
    assert shown["mobile"] == c.mobile_masked and shown["id_number"] == c.id_number_masked
    # No way to ask for the stored secrets by naming their columns.
    picked = client.get(f"{API}?q=" + q(columns=["id_number_enc", "id_number_bidx", "mobile"]), headers=h).get_json()
    for r in picked["result"]:
        assert set(r) <= {"mobile"} and "*" in r["mobile"]


def test_post_creates_and_answers_masked(client, api_token, make, in_app):
    data = make.data()
    resp = client.post(API, json=data, headers=api_token("clerk1"))
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["result"]["mobile"] == data["mobile"][:3] + "****" + data["mobile"][-4:]
    assert body["result"]["id_number"].startswith(data["id_number"][:3] + "*")
    with in_app():
        assert customers.reveal_value(db.session.get(Customer, body["id"])) == data["id_number"]


def test_post_with_bad_fields_is_422_naming_each_field(client, api_token, make, in_app):
    resp = client.post(API, json={"name": "", "id_number": "110105194912310020", "mobile": "12345",
                                  "email": "x@", "landline": "12", "gender": "X", "birth_date": "soon"},
                       headers=api_token("clerk1"))
    assert resp.status_code == 422
    errors = resp.get_json()["message"]
    assert set(errors) == {"name", "id_number", "mobile", "email", "landline", "gender", "birth_date"}
    assert all(isinstance(v, list) and v for v in errors.values())
    with in_app():
        assert db.session.execute(select(Customer.id)).first() is None


def test_post_duplicate_names_the_existing_customer(client, api_token, make):
    existing = make.customer("clerk1", name="周芷若")
    resp = client.post(API, json=make.data(mobile=existing.mobile), headers=api_token("clerk1"))
    assert resp.status_code == 422
    assert "周芷若" in resp.get_json()["message"]["mobile"][0]


def test_masked_values_are_not_accepted_on_create(client, api_token, make):
    resp = client.post(API, json=make.data(mobile="138****5678", id_number="110***********1234"),
                       headers=api_token("clerk1"))
    assert resp.status_code == 422
    assert {"mobile", "id_number"} <= set(resp.get_json()["message"])


def test_unknown_field_is_400(client, api_token, make):
    resp = client.post(API, json=make.data(shoe_size=42), headers=api_token("clerk1"))
    assert resp.status_code == 400
    assert "shoe_size" in resp.get_json()["message"]


@pytest.mark.parametrize(("body", "content_type"), [
    ("name=x", "application/x-www-form-urlencoded"),
    ("{not json", "application/json"),
    ('["a", "list"]', "application/json"),
    ("", "application/json"),
])
def test_non_json_body_is_400(client, api_token, body, content_type):
    h = {**api_token("clerk1"), "Content-Type": content_type}
    assert client.post(API, data=body, headers=h).status_code == 400


def test_put_updates_and_a_stale_version_is_409(client, api_token, make, in_app):
    c = make.customer("clerk1")
    h = api_token("clerk1")
    ok = client.put(f"{API}{c.id}", json={"city": "上海", "version": c.version}, headers=h)
    assert ok.status_code == 200 and ok.get_json()["result"]["version"] == c.version + 1
    stale = client.put(f"{API}{c.id}", json={"city": "广州", "version": c.version}, headers=h)
    assert stale.status_code == 409
    assert stale.get_json()["current"] == {"city": "上海"}
    with in_app():
        assert db.session.get(Customer, c.id).city == "上海"


def test_put_masked_values_keep_the_stored_ones(client, api_token, make, in_app):
    c = make.customer("clerk1")
    resp = client.put(f"{API}{c.id}", json={"mobile": c.mobile_masked, "id_number": c.id_number_masked,
                                            "address": "新地址"}, headers=api_token("clerk1"))
    assert resp.status_code == 200
    with in_app():
        row = db.session.get(Customer, c.id)
        assert row.mobile == c.mobile and customers.reveal_value(row) == c.id_number and row.address == "新地址"


@pytest.mark.parametrize("body", [{"version": "abc", "city": "x"}, {"email": "nope"}, {"owner_id": "boss"}])
def test_put_bad_values_are_422(client, api_token, make, body):
    c = make.customer("clerk1")
    resp = client.put(f"{API}{c.id}", json=body, headers=api_token("clerk1"))
    assert resp.status_code == 422
    assert set(resp.get_json()["message"]) == set(body) - {"city"}


def test_unknown_ids_are_404(client, api_token):
    h = api_token("manager")
    assert client.get(f"{API}999999", headers=h).status_code == 404
    assert client.put(f"{API}999999", json={"city": "x"}, headers=h).status_code == 404
    assert client.post(f"{API}999999/reveal", headers=h).status_code == 404
    assert client.delete(f"{API}999999", headers=h).status_code == 404
    assert client.get(f"{API}abc", headers=h).status_code == 404


def test_delete_customer_without_history(client, api_token, make, in_app):
    c = make.customer("clerk1")
    assert client.delete(f"{API}{c.id}", headers=api_token("clerk1")).status_code == 403  # clerk: no delete
    assert client.delete(f"{API}{c.id}", headers=api_token("manager")).status_code == 200
    with in_app():
        assert db.session.get(Customer, c.id) is None


def test_delete_customer_with_lines_is_refused(client, api_token, make):
    c = make.customer("clerk1")
    make.line(c, make.plan())
    resp = client.delete(f"{API}{c.id}", headers=api_token("manager"))
    assert resp.status_code == 422 and "status" in resp.get_json()["message"]


def test_eq_filter_on_mobile_finds_exactly_that_customer(client, api_token, make):
    a = make.customer("clerk1", mobile="13812345678")
    make.customer("clerk1", mobile="13812345679")
    body = client.get(f"{API}?q=(filters:!((col:mobile,opr:eq,value:'13812345678')))",
                      headers=api_token("manager")).get_json()
    assert body["ids"] == [a.id] and body["count"] == 1


def test_eq_filter_on_id_number_finds_exactly_that_customer(client, api_token, make):
    a = make.customer("clerk1")
    make.customer("clerk1")
    h = api_token("manager")
    for value in (a.id_number, a.id_number.lower()):
        body = client.get(f"{API}?q=" + eq_filter("id_number", value), headers=h).get_json()
        assert body["ids"] == [a.id], value
    # A masked or invalid number matches nothing (it is never compared in clear).
    for value in (a.id_number_masked, "110105194912310020", ""):
        body = client.get(f"{API}?q=" + eq_filter("id_number", value), headers=h).get_json()
        assert body["ids"] == [], value
    # Only exact matching exists for the encrypted column.
    resp = client.get(f"{API}?q=(filters:!((col:id_number,opr:sw,value:'110')))", headers=h)
    assert resp.status_code == 400


def test_other_filters(client, api_token, make):
    a = make.customer("clerk1", name="张三丰", city="武汉")
    make.customer("clerk1", name="李寻欢", city="杭州")
    h = api_token("manager")
    body = client.get(f"{API}?q=(filters:!((col:name,opr:ct,value:'三')))", headers=h).get_json()
    assert body["ids"] == [a.id]
    body = client.get(f"{API}?q=(filters:!((col:city,opr:eq,value:'武汉')))", headers=h).get_json()
    assert body["ids"] == [a.id]


@pytest.mark.parametrize("username", ["clerk1", "manager", "admin2"])
def test_reveal_gives_full_values_and_is_audited(client, api_token, make, app, username):
    c = make.customer("sales1")
    resp = client.post(f"{API}{c.id}/reveal", headers=api_token(username))
    assert resp.status_code == 200
    assert resp.get_json()["result"] == {"id_number": c.id_number, "mobile": c.mobile}
    reveals = audit_rows(app, "reveal")
    assert [(r.actor_name, r.entity, r.entity_id) for r in reveals] == [(username, "customer", str(c.id))]
    assert c.mobile not in reveals[0].changes and c.id_number not in reveals[0].changes


@pytest.mark.parametrize("username", ["sales1", "agent1"])
def test_reveal_is_forbidden_without_the_permission(client, api_token, make, app, username):
    c = make.customer("sales1")
    resp = client.post(f"{API}{c.id}/reveal", headers=api_token(username))
    assert resp.status_code == 403
    assert "result" not in resp.get_json()
    assert audit_rows(app, "reveal") == []


CONTRACT_RESOURCES = ("customers", "plans", "subscriptions", "value_added_services", "usage_records", "bills",
                      "payments", "business_changes", "audit_logs")


@pytest.mark.parametrize("username", ["admin2", "clerk1"])
def test_openapi_lists_every_contract_resource(client, api_token, username):
    resp = client.get("/api/v1/_openapi", headers=api_token(username))
    assert resp.status_code == 200
    paths = resp.get_json()["paths"]
    for name in CONTRACT_RESOURCES:
        assert f"/api/v1/{name}/" in paths, name
        assert f"/api/v1/{name}/{{pk}}" in paths, name
    assert "/api/v1/customers/{pk}/reveal" in paths


def test_info_describes_the_resource(client, api_token):
    resp = client.get(f"{API}_info", headers=api_token("clerk1"))
    assert resp.status_code == 200
    columns = resp.get_json()["add_columns"]
    assert {"name", "id_number", "mobile"} <= {c["name"] for c in columns}
    # No field is described by the translation catalogue's header (gettext("") returns it).
    assert not [c["name"] for c in columns if "Project-Id-Version" in c["description"] + c["label"]]
