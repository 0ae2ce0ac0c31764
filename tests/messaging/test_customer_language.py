"""A customer's message language (customer.language): default zh, one validation for form, API and
import, shown on the 360 page."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models.customer import Customer
from app.services import customers
from app.services.errors import Invalid
from app.services.importing import runner
from tests.factories import customer_data, make_customer
from tests.http.conftest import form_of, tr
from tests.imports.helpers import csv_bytes, person

API = "/api/v1/customers/"


def test_new_customers_are_written_to_in_chinese_unless_told_otherwise(ctx, actor):  # noqa: ANN001
    clerk = actor("clerk1")
    assert make_customer(clerk).language == "zh"
    assert make_customer(clerk, language="").language == "zh"
    assert make_customer(clerk, language="English").language == "en"  # a spelling people use
    c = make_customer(clerk, language="en")
    with pytest.raises(Invalid) as exc:
        customers.update(c.id, {"language": "fr"}, clerk)
    assert list(exc.value.errors) == ["language"]
    db.session.rollback()
    assert db.session.get(Customer, c.id).language == "en"


def test_rows_written_without_the_column_read_as_chinese(ctx, actor):  # noqa: ANN001
    """Bulk loads (the seed's COPY, old scripts) that do not name the column get the server default."""
    c = make_customer(actor("clerk1"), language="en")
    db.session.execute(text(
        "INSERT INTO customer (name, id_number_enc, id_number_bidx, id_number_masked, mobile, carrier, segment, "
        "status, consent_marketing, consent_analytics, version, created_at, updated_at) "
        "SELECT name, id_number_enc, 'g' || substr(id_number_bidx, 2), id_number_masked, '13999999999', carrier, "
        "segment, status, consent_marketing, consent_analytics, version, created_at, updated_at "
        "FROM customer WHERE id = :id"),
        {"id": c.id})
    db.session.commit()
    copied = db.session.execute(select(Customer).where(Customer.mobile == "13999999999")).scalar_one()
    assert copied.language == "zh"


def test_the_form_refuses_a_bad_language_on_its_field_and_keeps_a_good_one(ctx, app, as_user):  # noqa: ANN001
    clerk = as_user("clerk1")
    data = {**customer_data(), "segment": "ordinary", "status": "active"}
    resp = clerk.post("/customers/add", data={**data, "language": "fr"})
    assert resp.status_code == 200
    form = form_of(resp)
    assert list(form.errors) == ["language"] and form.values["name"] == data["name"]
    assert db.session.execute(select(Customer.id)).first() is None
    resp = clerk.post("/customers/add", data={**data, "language": "en"})
    assert resp.status_code == 302
    c = db.session.execute(select(Customer)).scalar_one()
    assert c.language == "en"
    page = clerk.get(f"/customer360/{c.id}").get_data(as_text=True)
    assert 'id="crm-language" data-language="en"' in page and tr(app, "English") in page
    assert tr(app, "Message language") in page


def test_the_api_names_a_bad_language_in_a_422_and_accepts_a_good_one(ctx, client, api_token):  # noqa: ANN001
    headers = api_token("clerk1")
    resp = client.post(API, json={**customer_data(), "language": "fr"}, headers=headers)
    assert resp.status_code == 422 and "language" in resp.get_json()["message"]
    resp = client.post(API, json={**customer_data(), "language": "en"}, headers=headers)
    assert resp.status_code == 201
    pk = resp.get_json()["id"]
    assert client.get(f"{API}{pk}", headers=headers).get_json()["result"]["language"] == "en"
    resp = client.put(f"{API}{pk}", json={"language": "xx"}, headers=headers)
    assert resp.status_code == 422 and "language" in resp.get_json()["message"]
    assert client.put(f"{API}{pk}", json={"language": "zh"}, headers=headers).status_code == 200
    assert client.get(f"{API}{pk}", headers=headers).get_json()["result"]["language"] == "zh"
    # The list shows it too.
    rows = client.get(f"{API}?q=(columns:!(id,language),page_size:100)", headers=headers).get_json()["result"]
    assert {"id": pk, "language": "zh"} in rows


def test_import_maps_a_language_column(ctx, actor):  # noqa: ANN001
    header = ["姓名", "身份证号", "手机号", "语言"]
    rows = [[person(n)["name"], person(n)["id_number"], person(n)["mobile"], lang]
            for n, lang in ((1, "英文"), (2, "zh"), (3, ""), (4, "en"))]
    report = runner.run("customers", "c.csv", csv_bytes(header, rows), actor("clerk1"))
    assert (report.created, report.failed) == (4, 0) and report.mapping["语言"] == "language"
    got = {mobile: language for mobile, language in db.session.execute(select(Customer.mobile, Customer.language))}
    assert [got[person(n)["mobile"]] for n in (1, 2, 3, 4)] == ["en", "zh", "zh", "en"]

    # A bad value is a row error on the language column; an update changes just the language.
    bad = [[person(5)["name"], person(5)["id_number"], person(5)["mobile"], "法语"]]
    report = runner.run("customers", "c.csv", csv_bytes(header, bad), actor("clerk1"))
    assert report.created == 0 and [(r, c) for r, c, _m in report.errors] == [(2, "language")]
    switch = [[person(2)["name"], person(2)["id_number"], person(2)["mobile"], "English"]]
    report = runner.run("customers", "c.csv", csv_bytes(header, switch), actor("clerk1"), policy="update")
    assert report.updated == 1
    db.session.expire_all()
    assert db.session.execute(select(Customer.language).where(Customer.mobile == person(2)["mobile"])).scalar() == "en"
