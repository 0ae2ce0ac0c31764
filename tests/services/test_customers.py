"""Customer service: validation, duplicates, encryption, masking, history and audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.business_change import BusinessChange
from app.models.customer import Customer
from app.services import audit, customers
from app.services.errors import Conflict, Invalid, NotFound
from tests.factories import customer_data, make_customer


def test_create_derives_birth_date_gender_and_carrier(actor):
    c = make_customer(actor("clerk1"), id_number="11010519491231002X", mobile="18912345678")
    assert c.birth_date.isoformat() == "1949-12-31"
    assert c.gender == "F"  # 17th digit 2 is even
    assert c.carrier == "ctcc"


def test_id_number_is_stored_encrypted_and_found_by_blind_index(actor):
    clerk = actor("clerk1")
    c = make_customer(clerk, id_number="11010519491231002X")
    row = db.session.execute(select(Customer.id_number_enc, Customer.id_number_masked)).one()
    assert "11010519491231002X" not in row.id_number_enc
    assert row.id_number_masked == "110***********002X"
    assert customers.reveal(c.id, clerk)["id_number"] == "11010519491231002X"
    hit = db.session.execute(select(Customer).where(Customer.id_number == "11010519491231002x")).scalar_one()
    assert hit.id == c.id


def test_duplicate_id_and_mobile_name_the_existing_customer(actor):
    clerk = actor("clerk1")
    first = make_customer(clerk)
    with pytest.raises(Invalid) as exc:
        customers.create(customer_data(id_number=customers.reveal_value(first), mobile=first.mobile), clerk)
    assert first.name in exc.value.errors["id_number"][0]
    assert first.name in exc.value.errors["mobile"][0]
    assert db.session.query(Customer).count() == 1


def test_all_bad_fields_reported_at_once_and_nothing_written(actor):
    with pytest.raises(Invalid) as exc:
        customers.create({"name": "", "id_number": "110105194912310021", "mobile": "12345", "email": "x@"},
                         actor("clerk1"))
    assert set(exc.value.errors) == {"name", "id_number", "mobile", "email"}
    assert db.session.query(Customer).count() == 0


def test_birth_date_must_agree_with_id(actor):
    with pytest.raises(Invalid) as exc:
        customers.create(customer_data(id_number="11010519491231002X", birth_date="1950-01-01"), actor("clerk1"))
    assert "birth_date" in exc.value.errors


def test_update_records_business_change_and_audit_with_masked_values(actor):
    clerk = actor("clerk1")
    c = make_customer(clerk)
    customers.update(c.id, {"address": "上海市浦东新区新地址1号", "mobile": "13900000001"}, clerk, version=c.version)
    change = db.session.execute(select(BusinessChange)).scalar_one()
    assert change.change_type == "profile_update"
    assert "上海市浦东新区新地址1号" in change.after
    assert "13900000001" not in change.after and "139****0001" in change.after
    assert audit.verify().ok


def test_masked_value_sent_back_keeps_stored_value(actor):
    clerk = actor("clerk1")
    c = make_customer(clerk)
    mobile = c.mobile
    customers.update(c.id, {"mobile": c.mobile_masked, "id_number": c.id_number_masked, "city": "上海"}, clerk)
    db.session.refresh(c)
    assert c.mobile == mobile and c.city == "上海"


def test_stale_version_is_a_conflict_and_changes_nothing(actor):
    clerk = actor("clerk1")
    c = make_customer(clerk)
    loaded = c.version
    customers.update(c.id, {"city": "上海"}, clerk, version=loaded)
    with pytest.raises(Conflict) as exc:
        customers.update(c.id, {"city": "广州"}, actor("manager"), version=loaded)
    assert exc.value.current == {"city": "上海"}
    db.session.rollback()
    assert db.session.get(Customer, c.id).city == "上海"


def test_sales_sees_only_own_customers(actor):
    s1, s2 = actor("sales1"), actor("sales2")
    mine = make_customer(s1)
    assert mine.owner_id == s1.id
    assert customers.get(mine.id, s1).id == mine.id
    with pytest.raises(NotFound):
        customers.get(mine.id, s2)
