"""Anonymised analytics export and the analytics charts' data exports."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from app.extensions import db
from app.models.base import utcnow
from app.models.bill import Bill
from app.models.customer import Customer
from app.services import anonymised_export
from app.services.care import business_date
from app.services.errors import Forbidden
from tests.conftest import actor_for
from tests.exports.conftest import last_export_audit, read_csv, read_xlsx
from tests.factories import make_customer


@pytest.fixture
def people(app):  # noqa: ANN001, ANN201
    """Three consenting customers (one with bills) and one who did not consent to analytics use."""
    with app.app_context():
        manager = actor_for("manager")
        made = [make_customer(manager, consent_analytics=True, segment=s)
                for s in ("high_value", "potential", "ordinary")]
        for i, c in enumerate(made):  # birth dates the ID numbers would not give
            c.birth_date = dt.date(1980 + i, 5, 6)
        refused = make_customer(manager, consent_analytics=False)
        month = business_date(utcnow()).replace(day=1)
        for total in ("80.00", "100.00"):
            db.session.add(Bill(customer_id=made[0].id, month=month, total=Decimal(total), due_date=month))
            month = (month - dt.timedelta(days=1)).replace(day=1)
        db.session.commit()
        secrets = []
        for c in [*made, refused]:
            secrets += [c.name, c.mobile, c.address, c.id_number_masked[-4:] + c.name]
        return {"ids": [c.id for c in made], "refused": refused.id, "secrets": secrets,
                "names": [c.name for c in made], "mobiles": [c.mobile for c in made],
                "addresses": [c.address for c in made]}


def test_anonymised_export_has_no_personal_data_and_stable_keys(people, as_user, app):  # noqa: ANN001
    c = as_user("manager")
    first = c.get("/analytics/export/anonymised?format=csv")
    assert first.status_code == 200
    rows = read_csv(first.get_data())
    assert rows[0] == list(anonymised_export.COLUMNS)
    assert len(rows) == 1 + 3  # consenting customers only
    for banned in ("name", "id_number", "mobile", "address", "email", "birth_date", "landline"):
        assert banned not in rows[0]
    text = first.get_data().decode("utf-8")
    for value in people["names"] + people["mobiles"] + people["addresses"]:
        assert value not in text
    by_year = {r[1]: r for r in rows[1:]}
    assert set(by_year) == {"1980", "1981", "1982"}  # birth year only
    assert by_year["1980"][rows[0].index("monthly_arpu")] == "90.00"
    assert by_year["1980"][rows[0].index("tickets")] == "0"
    with app.app_context():
        expected = {anonymised_export.customer_key(i) for i in people["ids"]}
        assert anonymised_export.customer_key(people["refused"]) not in {r[0] for r in rows[1:]}
    assert {r[0] for r in rows[1:]} == expected
    assert all(str(i) not in {r[0] for r in rows[1:]} for i in people["ids"])
    again = read_xlsx(c.get("/analytics/export/anonymised?format=xlsx").get_data())
    assert {r[0] for r in again[1:]} == expected  # the same key in every export
    with app.app_context():
        entry = last_export_audit("anonymised_customers")
        assert entry is not None and json.loads(entry.changes)["rows"] == 3


def test_pseudonymous_key_is_keyed_and_not_the_id(ctx):  # noqa: ANN001
    key = anonymised_export.customer_key(42)
    assert key == anonymised_export.customer_key(42) and len(key) == 24
    assert key != anonymised_export.customer_key(43)
    assert key != anonymised_export.customer_key(42, key=b"another key")  # depends on the secret


def test_anonymised_export_is_for_managers(people, as_user, ctx):  # noqa: ANN001
    for user in ("sales1", "clerk1", "agent1"):
        assert as_user(user).get("/analytics/export/anonymised?format=csv").status_code in (302, 403)
    with pytest.raises(Forbidden):
        anonymised_export.export(actor_for("sales1"), "csv", dt.date(2026, 3, 1))
    assert as_user("manager").get("/analytics/export/").status_code == 200
    assert as_user("manager").get("/analytics/export/anonymised?format=doc").status_code == 422


def test_segment_chart_data_matches_the_page(people, as_user, app):  # noqa: ANN001
    c = as_user("manager")
    page = c.get("/analytics/segments/").get_data(as_text=True)
    assert "/analytics/export/segments/distribution?format=xlsx" in page
    assert 'id="crm-anonymised-export-link"' in page
    rows = read_csv(c.get("/analytics/export/segments/distribution?format=csv").get_data())
    counts = {r[0]: int(r[2]) for r in rows[1:]}
    with app.app_context():
        for segment, n in counts.items():
            assert n == db.session.query(Customer).filter(Customer.segment == segment,
                                                          Customer.status != "closed").count()
        entry = last_export_audit("chart:segments:distribution")
        assert entry is not None and json.loads(entry.changes)["rows"] == len(rows) - 1
    assert c.get("/analytics/export/segments/trend?format=xlsx").status_code == 200
    bad = c.get("/analytics/export/segments/movement?format=csv&month=13-2026")
    assert bad.status_code == 422 and "month" in bad.get_json()["message"]
    assert c.get("/analytics/export/segments/pie?format=csv").status_code == 422
    assert as_user("clerk1").get("/analytics/export/segments/distribution?format=csv").status_code in (302, 403)


def test_forecast_chart_data_exports(people, as_user):  # noqa: ANN001
    c = as_user("manager")
    assert "/analytics/export/forecast?measure=revenue" in c.get("/analytics/forecast/").get_data(as_text=True)
    resp = c.get("/analytics/export/forecast?measure=subscriptions&format=xlsx")
    assert resp.status_code == 200
    sheet = read_xlsx(resp.get_data())
    assert len(sheet[0]) == 8
    assert c.get("/analytics/export/forecast?measure=nope&format=csv").status_code == 422
