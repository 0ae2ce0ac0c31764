"""Customer pages through the browser's eyes: add, edit, conflicts, list, search and quick search."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from app.extensions import db
from app.models.business_change import BusinessChange
from app.models.customer import Customer
from app.services import customers
from app.services.identity import make_id_number
from tests.http.conftest import audit_rows, flashes, form_of, page, tr, user_id

GOOD = {
    "name": "王小明",
    "id_number": "11010519491231002X",
    "mobile": "18912345678",
    "gender": "",
    "birth_date": "",
    "landline": "01012345678",
    "email": "Wang@Example.com",
    "address": "北京市海淀区中关村大街1号",
    "city": "北京",
    "segment": "high_value",
    "status": "active",
    "consent_marketing": "y",
}


def customer_count(in_app) -> int:  # noqa: ANN001
    with in_app():
        return db.session.execute(select(func.count(Customer.id))).scalar()


def stored(in_app, pk: int) -> dict:  # noqa: ANN001
    with in_app():
        c = db.session.get(Customer, pk)
        return {"mobile": c.mobile, "id_number": customers.reveal_value(c), "address": c.address,
                "city": c.city, "version": c.version, "landline": c.landline, "email": c.email,
                "birth_date": c.birth_date, "gender": c.gender, "carrier": c.carrier, "owner_id": c.owner_id,
                "segment": c.segment, "consent_marketing": c.consent_marketing, "name": c.name}


# --- add -----------------------------------------------------------------------------------------

def test_add_with_every_field_goes_to_the_360_page(app, browser, in_app):
    clerk = browser("clerk1")
    resp = clerk.post("/customers/add", data=GOOD)
    assert resp.status_code == 302
    with in_app():
        pk = db.session.execute(select(Customer.id)).scalar_one()
    assert resp.headers["Location"].endswith(f"/customer360/{pk}")
    c = stored(in_app, pk)
    assert c["id_number"] == "11010519491231002X" and c["mobile"] == "18912345678"
    assert c["birth_date"] == dt.date(1949, 12, 31) and c["gender"] == "F"  # derived from the ID
    assert c["carrier"] == "ctcc" and c["landline"] == "010-12345678" and c["email"] == "Wang@example.com"
    assert c["segment"] == "high_value" and c["consent_marketing"] is True
    created = [a for a in audit_rows(app, "create") if a.entity == "customer"]
    assert len(created) == 1 and created[0].actor_name == "clerk1"
    # The audit entry holds masked personal data only.
    assert "18912345678" not in created[0].changes and "11010519491231002X" not in created[0].changes


def test_add_with_bad_fields_shows_each_error_on_its_field_keeps_input_and_writes_nothing(app, browser, in_app):
    clerk = browser("clerk1")
    bad = dict(GOOD, id_number="110105194912310020", mobile="12345", email="x@", landline="12345")
    resp = clerk.post("/customers/add", data=bad)
    assert resp.status_code == 200
    form = form_of(resp)
    assert form.errors["id_number"] == [tr(app, "Resident ID number check character is wrong.")]
    assert form.errors["mobile"] == [tr(app, "Mobile number must be 11 digits starting with 1.")]
    assert form.errors["email"] == [tr(app, "Email address is not valid.")]
    assert "landline" in form.errors
    assert "name" not in form.errors and "address" not in form.errors
    # What the user typed is still there, the good and the bad.
    assert form.values["name"] == GOOD["name"]
    assert form.values["address"] == GOOD["address"]
    assert form.values["city"] == GOOD["city"]
    assert form.values["mobile"] == "12345"
    assert form.values["segment"] == "high_value"
    assert customer_count(in_app) == 0
    assert not [a for a in audit_rows(app, "create") if a.entity == "customer"]


def test_unparseable_birth_date_is_an_error_on_birth_date(app, browser, in_app):
    resp = browser("clerk1").post("/customers/add", data=dict(GOOD, birth_date="1949-13-01"))
    assert resp.status_code == 200
    form = form_of(resp)
    assert list(form.errors) == ["birth_date"]
    assert form.values["name"] == GOOD["name"] and form.values["mobile"] == GOOD["mobile"]
    assert customer_count(in_app) == 0


def test_birth_date_contradicting_the_id_is_an_error_on_birth_date(app, browser, in_app):
    resp = browser("clerk1").post("/customers/add", data=dict(GOOD, birth_date="1950-01-01"))
    assert resp.status_code == 200
    assert "1949-12-31" in form_of(resp).errors["birth_date"][0]
    assert customer_count(in_app) == 0


def test_duplicate_id_and_mobile_name_the_existing_customer(app, browser, make, in_app):
    existing = make.customer("clerk1", name="李四")
    resp = browser("clerk1").post("/customers/add", data=dict(GOOD, id_number=existing.id_number,
                                                               mobile=existing.mobile))
    assert resp.status_code == 200
    errors = form_of(resp).errors
    assert errors["id_number"] == [tr(app, "This resident ID number already belongs to customer %(name)s (#%(id)d).",
                                      name="李四", id=existing.id)]
    assert errors["mobile"] == [tr(app, "This mobile number already belongs to customer %(name)s (#%(id)d).",
                                   name="李四", id=existing.id)]
    assert customer_count(in_app) == 1


def test_salesperson_adding_a_customer_owns_it(app, browser, in_app):
    resp = browser("sales1").post("/customers/add", data=GOOD)
    assert resp.status_code == 302
    with in_app():
        owner = db.session.execute(select(Customer.owner_id)).scalar_one()
    assert owner == user_id(app, "sales1")


# --- edit ----------------------------------------------------------------------------------------

def test_edit_form_shows_id_and_mobile_masked(app, browser, make):
    c = make.customer("clerk1")
    resp = browser("clerk1").get(f"/customers/edit/{c.id}")
    assert resp.status_code == 200
    form = form_of(resp)
    assert form.values["mobile"] == c.mobile_masked
    assert form.values["id_number"] == c.id_number_masked
    html = page(resp)
    assert c.mobile not in html and c.id_number not in html
    assert tr(app, "11 digits. On edit the number is shown masked: leave it as is to keep it.") in html


def test_saving_the_edit_form_unchanged_keeps_stored_values(app, browser, make, in_app):
    c = make.customer("clerk1")
    clerk = browser("clerk1")
    before = stored(in_app, c.id)
    values = form_of(clerk.get(f"/customers/edit/{c.id}")).values
    resp = clerk.post(f"/customers/edit/{c.id}", data=values)
    assert resp.status_code == 302
    after = stored(in_app, c.id)
    assert after == before  # not even the version moved: nothing changed
    assert not [a for a in audit_rows(app, "update")]


def test_edit_address_writes_business_change_and_audit(app, browser, make, in_app):
    c = make.customer("clerk1")
    clerk = browser("clerk1")
    values = form_of(clerk.get(f"/customers/edit/{c.id}")).values
    values["address"] = "上海市浦东新区世纪大道100号"
    resp = clerk.post(f"/customers/edit/{c.id}", data=values)
    assert resp.status_code == 302
    after = stored(in_app, c.id)
    assert after["address"] == "上海市浦东新区世纪大道100号"
    assert after["mobile"] == c.mobile and after["id_number"] == c.id_number
    with in_app():
        change = db.session.execute(select(BusinessChange)).scalar_one()
        assert change.change_type == "profile_update" and change.customer_id == c.id
        assert json.loads(change.before) == {"address": c.address}
        assert json.loads(change.after) == {"address": "上海市浦东新区世纪大道100号"}
        assert change.operator_id == user_id(app, "clerk1")
    updates = audit_rows(app, "update")
    assert len(updates) == 1 and updates[0].entity_id == str(c.id) and updates[0].actor_name == "clerk1"
    # The 360 page's history shows the change.
    assert "上海市浦东新区世纪大道100号" in page(clerk.get(f"/customer360/{c.id}"))


def test_edit_with_a_bad_value_keeps_input_and_changes_nothing(app, browser, make, in_app):
    c = make.customer("clerk1")
    clerk = browser("clerk1")
    values = form_of(clerk.get(f"/customers/edit/{c.id}")).values
    values.update(email="broken@", city="深圳")
    resp = clerk.post(f"/customers/edit/{c.id}", data=values)
    assert resp.status_code == 200
    form = form_of(resp)
    assert form.errors["email"] == [tr(app, "Email address is not valid.")]
    assert form.values["city"] == "深圳"
    assert stored(in_app, c.id)["city"] == c.city


def test_two_editors_second_sees_conflict_with_the_others_values(app, browser, make, in_app):
    c = make.customer("clerk1")
    first, second = browser("clerk1"), browser("manager")
    form1 = form_of(first.get(f"/customers/edit/{c.id}")).values
    form2 = form_of(second.get(f"/customers/edit/{c.id}")).values
    assert form1["version"] == form2["version"] == str(c.version)

    form1["city"] = "上海"
    assert first.post(f"/customers/edit/{c.id}", data=form1).status_code == 302

    form2["city"] = "广州"
    form2["address"] = "广州市天河区体育西路1号"
    resp = second.post(f"/customers/edit/{c.id}", data=form2)
    assert resp.status_code == 200
    warnings = " ".join(flashes(resp, "warning"))
    assert "上海" in warnings  # the other person's value
    form = form_of(resp)
    assert form.values["city"] == "广州"  # the user's own input is still on the form
    assert form.values["address"] == "广州市天河区体育西路1号"
    assert form.values["version"] == str(c.version + 1)  # the next save is a deliberate overwrite
    assert stored(in_app, c.id)["city"] == "上海"  # nothing silently overwritten

    # Saving again (having seen the warning) overwrites on purpose.
    assert second.post(f"/customers/edit/{c.id}", data=form.values).status_code == 302
    assert stored(in_app, c.id)["city"] == "广州"


# --- list and search -----------------------------------------------------------------------------

def test_list_shows_masked_values_and_carrier_label(app, browser, make):
    c = make.customer("clerk1", mobile="13012345678")
    html = page(browser("agent1").get("/customers/list/"))
    assert c.name in html
    assert "130****5678" in html and c.id_number_masked in html
    assert "13012345678" not in html and c.id_number not in html
    assert tr(app, "China Unicom") in html


def _listed(client, query: str) -> str:  # noqa: ANN001
    resp = client.get(f"/customers/list/?{query}")
    assert resp.status_code == 200
    return page(resp)


def test_search_by_name_mobile_city_status_and_plan(app, browser, make, in_app):
    plan = make.plan()
    a = make.customer("clerk1", name="张三丰", mobile="13812340001", city="北京")
    b = make.customer("clerk1", name="张无忌", mobile="13812349999", city="上海", status="suspended")
    c = make.customer("clerk1", name="赵敏", mobile="18612340002", city="上海")
    make.line(c, plan)
    clerk = browser("clerk1")

    def names(query: str) -> set[str]:
        html = _listed(clerk, query)
        return {n for n in (a.name, b.name, c.name) if n in html}

    assert names("_flt_2_name=张") == {a.name, b.name}  # name contains
    assert names("_flt_2_name=无忌") == {b.name}
    assert names("_flt_3_mobile=13812340001") == {a.name}  # mobile exact
    assert names("_flt_0_mobile=1381234") == {a.name, b.name}  # mobile prefix
    assert names("_flt_3_city=上海") == {b.name, c.name}
    assert names("_flt_3_status=suspended") == {b.name}
    assert names(f"_flt_0_plan={plan.id}") == {c.name}


def test_quick_search_by_full_mobile_or_resident_id_opens_the_360(browser, make):
    c = make.customer("clerk1")
    clerk = browser("clerk1")
    for q in (c.mobile, f"{c.mobile[:3]} {c.mobile[3:7]} {c.mobile[7:]}", c.id_number, c.id_number.lower()):
        resp = clerk.get("/customer360/search", query_string={"q": q})
        assert resp.status_code == 302, q
        assert resp.headers["Location"].endswith(f"/customer360/{c.id}"), q


def test_quick_search_by_name_or_partial_mobile_lists_matches(browser, make):
    a = make.customer("clerk1", name="欧阳锋", mobile="13712340001")
    b = make.customer("clerk1", name="欧阳克", mobile="13712340002")
    other = make.customer("clerk1", name="黄药师", mobile="13912340003")
    clerk = browser("clerk1")
    html = page(clerk.get("/customer360/search", query_string={"q": "欧阳"}, follow_redirects=True))
    assert a.name in html and b.name in html and other.name not in html
    html = page(clerk.get("/customer360/search", query_string={"q": "137123"}, follow_redirects=True))
    assert a.name in html and b.name in html and other.name not in html


def test_quick_search_misses_say_so(app, browser, make):
    make.customer("clerk1")
    clerk = browser("clerk1")
    resp = clerk.get("/customer360/search", query_string={"q": "13999999999"}, follow_redirects=True)
    assert tr(app, "No customer with this mobile number.") in page(resp)
    unknown_id = make_id_number("310104", dt.date(1970, 1, 1), 5, "M")
    resp = clerk.get("/customer360/search", query_string={"q": unknown_id}, follow_redirects=True)
    assert tr(app, "No customer with this resident ID number.") in page(resp)
    resp = clerk.get("/customer360/search", query_string={"q": "110105194912310020"}, follow_redirects=True)
    assert tr(app, "Resident ID number check character is wrong.") in page(resp)
