"""List exports: every filtered row (not one page), row rules, masking, formula neutralising, audit,
permissions — through the list pages' own `/export/<fmt>/` route."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.models.customer import Customer
from app.services import list_export
from tests.conftest import actor_for
from tests.exports.conftest import last_export_audit, read_csv, read_xlsx
from tests.factories import make_customer

CITY_FILTER = "_flt_3_city=上海"  # FAB's "equal to" on a text column


@pytest.fixture
def customers(app):  # noqa: ANN001, ANN201
    """30 customers in 上海 (20 of sales1, 10 of sales2) and 6 elsewhere."""
    with app.app_context():
        s1, s2 = actor_for("sales1"), actor_for("sales2")
        made = [make_customer(s1 if i < 20 else s2, city="上海") for i in range(30)]
        made += [make_customer(s1, city="北京") for _ in range(6)]
        return {c.id: (c.name, c.mobile, c.owner.username) for c in made}


def _export(client, fmt: str, query: str = "", base: str = "/customers") -> bytes:  # noqa: ANN001
    resp = client.get(f"{base}/export/{fmt}/?{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert "attachment;" in resp.headers["Content-Disposition"]
    return resp.get_data()


def test_export_has_every_filtered_row_not_one_page(customers, as_user):  # noqa: ANN001
    c = as_user("manager")
    page = c.get(f"/customers/list/?{CITY_FILTER}&psize_CustomerModelView=10").get_data(as_text=True)
    assert page.count("/customers/show/") <= 10  # the list shows one page of ten …
    rows = read_csv(_export(c, "csv", CITY_FILTER))
    assert rows[0] == list(list_export.CUSTOMER_FIELDS)
    assert len(rows) == 1 + 30  # … the export every matching row, whatever the page size
    city = rows[0].index("city")
    assert {r[city] for r in rows[1:]} == {"上海"}
    assert len(read_csv(_export(c, "csv"))) == 1 + 36  # no filter: everything
    sheet = read_xlsx(_export(c, "xlsx", CITY_FILTER))
    assert sheet[0] == list(list_export.CUSTOMER_FIELDS) and len(sheet) == 1 + 30


def test_export_follows_the_list_order(customers, as_user):  # noqa: ANN001
    c = as_user("manager")
    rows = read_csv(_export(c, "csv", f"{CITY_FILTER}&_oc_CustomerModelView=id&_od_CustomerModelView=asc"))
    expected = [name for _id, (name, _m, _o) in sorted(customers.items()) if name in {r[0] for r in rows[1:]}]
    assert [r[0] for r in rows[1:]] == expected


def test_sales_export_only_their_own_customers(customers, as_user):  # noqa: ANN001
    own = {name for name, _m, owner in customers.values() if owner == "sales1"}
    rows = read_csv(_export(as_user("sales1"), "csv", CITY_FILTER))
    assert len(rows) == 1 + 20
    assert {r[0] for r in rows[1:]} <= own
    owner = rows[0].index("owner")
    assert {r[owner] for r in rows[1:]} == {"sales1"}
    assert len(read_csv(_export(as_user("sales1"), "csv"))) == 1 + 26  # their 北京 customers too, no one else's


def test_mobile_and_id_number_are_masked_for_every_role(customers, as_user):  # noqa: ANN001
    for user in ("admin2", "manager"):
        for fmt, reader in (("csv", read_csv), ("xlsx", read_xlsx)):
            data = _export(as_user(user), fmt, CITY_FILTER)
            rows = reader(data)
            mobile, id_number = rows[0].index("mobile"), rows[0].index("id_number")
            assert all("****" in r[mobile] and "*******" in r[id_number] for r in rows[1:])
            if fmt == "csv":
                text = data.decode("utf-8")
                assert not any(m in text for _n, m, _o in customers.values())  # no full mobile anywhere


def test_formula_cells_are_neutralised(app, as_user):  # noqa: ANN001
    with app.app_context():
        manager = actor_for("manager")
        bad = [make_customer(manager, city="上海", address=a) for a in ("=1+2", "+SUM(A1)", "-2+3", "@cmd")]
        ids = [b.id for b in bad]
    c = as_user("manager")
    for fmt, reader in (("csv", read_csv), ("xlsx", read_xlsx)):
        rows = reader(_export(c, fmt, f"{CITY_FILTER}&_oc_CustomerModelView=id&_od_CustomerModelView=asc"))
        address = rows[0].index("address")
        assert [r[address] for r in rows[1:]] == ["'=1+2", "'+SUM(A1)", "'-2+3", "'@cmd"], fmt
    assert len(ids) == 4


def test_each_export_is_audited_with_its_row_count_and_filters(customers, as_user, app):  # noqa: ANN001
    _export(as_user("sales1"), "xlsx", CITY_FILTER)
    with app.app_context():
        entry = last_export_audit("customers")
        assert entry is not None and entry.actor_name == "sales1"
        changes = json.loads(entry.changes)
        assert changes["rows"] == 20 and changes["format"] == "xlsx" and "complete" not in changes
        (applied,) = changes["filters"]
        assert applied["column"] == "city" and applied["op"] == "eq" and "上海" in str(applied["value"])


def test_an_abandoned_download_is_audited_as_incomplete(customers, ctx):  # noqa: ANN001
    manager = actor_for("manager")
    body = list_export.audited(list_export.customer_rows(list_export.customers_query(manager)), manager,
                               "customers", "csv")
    next(body)
    next(body)
    body.close()  # the client went away
    changes = json.loads(last_export_audit("customers").changes)
    assert changes["rows"] == 2 and changes["complete"] is False


def test_service_export_streams_the_actors_rows(customers, ctx):  # noqa: ANN001
    data = b"".join(list_export.export_customers(actor_for("sales2"), "csv"))
    rows = read_csv(data)
    assert len(rows) == 1 + 10
    assert db.session.query(Customer).count() == 36
    assert json.loads(last_export_audit("customers").changes)["rows"] == 10


def test_buttons_only_for_users_who_may_export(customers, as_user):  # noqa: ANN001
    page = as_user("manager").get(f"/customers/list/?{CITY_FILTER}").get_data(as_text=True)
    assert 'class="btn btn-default btn-sm crm-export-xlsx"' in page
    assert "/customers/export/xlsx/?_flt_3_city=" in page  # the link carries the list's filters
    assert "crm-export-csv" in page
    clerk = as_user("clerk1")
    page = clerk.get("/customers/list/").get_data(as_text=True)
    assert "/customers/list/" in page or "customers" in page
    assert "crm-export-xlsx" not in page and "crm-export-csv" not in page
    assert clerk.get("/customers/export/csv/").status_code in (302, 403)
    agent = as_user("agent1")
    assert agent.get("/customers/export/xlsx/").status_code in (302, 403)


def test_refused_and_bad_requests_write_nothing(customers, as_user, app):  # noqa: ANN001
    assert as_user("clerk1").get("/customers/export/csv/").status_code in (302, 403)
    resp = as_user("manager").get("/customers/export/pdf/")
    assert resp.status_code == 400 and "format" in resp.get_json()["message"]
    with app.app_context():
        assert last_export_audit() is None


def test_other_lists_export_their_columns_with_row_rules(app, as_user):  # noqa: ANN001
    from tests.sales.conftest import make_lead

    with app.app_context():
        mine = [make_lead("sales1", name=f"=线索{i}") for i in range(3)]
        theirs = make_lead("sales2")
        mobiles = [lead.mobile for lead in mine] + [theirs.mobile]
    rows = read_csv(_export(as_user("sales1"), "csv", base="/leads"))
    assert len(rows) == 1 + 3
    assert all(r[1].startswith("'=线索") for r in rows[1:])  # name column, neutralised
    text = ",".join(",".join(r) for r in rows)
    assert not any(m in text for m in mobiles)  # the list shows masked mobiles; so does the export
    assert len(read_xlsx(_export(as_user("manager"), "xlsx", base="/leads"))) == 1 + 4


def test_read_only_lists_offer_the_export_to_managers(app, as_user):  # noqa: ANN001
    resp = as_user("manager").get("/bills/export/csv/")
    assert resp.status_code == 200
    assert len(read_csv(resp.get_data())) == 1  # header only: no bills yet
    assert as_user("sales1").get("/bills/export/csv/").status_code in (302, 403)
