"""The customer export PostgreSQL writes itself (COPY, `customer_export_pg`) is the Python path's file:
same rows, order, masking, formula neutralising and escaping, and the same audit — also when the
download is abandoned half-way. On SQLite both names are the Python path, so only the shared
checks run there."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models.customer import Customer
from app.services import customer_export_pg, list_export
from tests.conftest import actor_for
from tests.exports.conftest import last_export_audit, read_csv, read_xlsx
from tests.factories import make_customer

# Values a spreadsheet or an XML parser would trip over, written past the services' validation:
# the exporter must cope with whatever is stored.
TRICKY_ADDRESSES = [
    "=1+2", "+SUM(A1)", "-2+3", "@cmd", "\t=tab first", 'a & b < c > "d"', "back\\slash \\N",
    "line\nbreak", "tab\tinside", "bell\x07rings", "odd\ufffechar", "", None, "普通地址 1号",
    "'already quoted", "\\", "&amp;",
]


def _on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


@pytest.fixture
def tricky(app):  # noqa: ANN001, ANN201
    """A customer per tricky address (sales1's), plus one without owner, email or landline."""
    with app.app_context():
        sales1 = actor_for("sales1")
        ids = []
        for i, address in enumerate(TRICKY_ADDRESSES):
            c = make_customer(sales1, city="上海")
            db.session.execute(update(Customer).where(Customer.id == c.id).values(
                address=address, email=f"-{i}@x.cn" if i % 3 == 0 else None, landline="" if i % 2 else None))
            ids.append(c.id)
        db.session.execute(update(Customer).where(Customer.id == ids[0]).values(owner_id=None, name="=名字"))
        db.session.commit()
        return ids


def _python_path(actor, fmt: str, query) -> bytes:  # noqa: ANN001
    rows = list_export.customer_rows(query)
    return b"".join(list_export.stream(actor, fmt, "customers", list(list_export.CUSTOMER_FIELDS), rows,
                                       sheet="customers"))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_database_file_equals_the_python_file(tricky, ctx, fmt):  # noqa: ANN001
    if not _on_postgresql():
        pytest.skip("COPY is the PostgreSQL path; SQLite exports through the Python path only")
    manager = actor_for("manager")
    query = list_export.customers_query(manager)
    assert customer_export_pg.available()
    reader = read_csv if fmt == "csv" else read_xlsx
    ours = reader(b"".join(list_export.export_customers(manager, fmt, query)))
    theirs = reader(_python_path(manager, fmt, list_export.customers_query(manager)))
    assert len(ours) == 1 + len(TRICKY_ADDRESSES)
    assert ours == theirs
    address = ours[0].index("address")
    cells = {r[address] for r in ours[1:]}
    assert {"'=1+2", "'+SUM(A1)", "'-2+3", "'@cmd", "'\t=tab first"} <= cells  # neutralised
    assert {'a & b < c > "d"', "back\\slash \\N", "line\nbreak", "tab\tinside", "bellrings" if fmt == "xlsx"
            else "bell\x07rings"} <= cells
    mobile = ours[0].index("mobile")
    assert all("****" in r[mobile] for r in ours[1:])
    assert ours[-1][0] == "'=名字" and ours[-1][ours[0].index("owner")] in ("", None)  # oldest last (id desc)


def test_database_file_follows_filters_order_and_row_rules(tricky, as_user, app):  # noqa: ANN001
    with app.app_context():
        make_customer(actor_for("sales2"), city="上海", name="其他人的客户")
        mine = tricky[1:]  # the first has no owner: not sales1's
        names = [n for (n,) in db.session.query(Customer.name).filter(Customer.id.in_(mine)).order_by(Customer.id)]
    # A filter value holding "%" or "'" is bound by the driver, never pasted into the SQL.
    for query in ("_flt_2_name=%25%27%3B", "_flt_2_name=%27%29%20OR%201%3D1--"):
        assert read_csv(as_user("manager").get(f"/customers/export/csv/?{query}").get_data()) == [
            list(list_export.CUSTOMER_FIELDS)]
    url = "/customers/export/xlsx/?_flt_3_city=上海&_oc_CustomerModelView=id&_od_CustomerModelView=asc"
    sheet = read_xlsx(as_user("sales1").get(url).get_data())
    # sales1's rows only (not sales2's customer nor the one without owner), oldest first as asked
    assert [r[0] for r in sheet[1:]] == names
    with app.app_context():
        changes = json.loads(last_export_audit("customers").changes)
    assert changes["rows"] == len(mine) and changes["order"] == "id asc"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_abandoned_export_is_audited_with_the_rows_read(tricky, ctx, monkeypatch, fmt):  # noqa: ANN001
    monkeypatch.setattr(customer_export_pg, "BATCH_ROWS", 5)
    body = list_export.export_customers(actor_for("manager"), fmt)
    assert next(body)  # the header (CSV) or the archive's fixed parts (XLSX): the query is running
    body.close()  # the client went away
    changes = json.loads(last_export_audit("customers").changes)
    assert changes["format"] == fmt
    if _on_postgresql():
        assert changes["rows"] == 5 and changes["complete"] is False  # one batch of the COPY, counted exactly
    else:  # the Python writers read 500 or 2,000 rows before their first bytes: here, all of them
        assert changes["rows"] == len(TRICKY_ADDRESSES)
    assert db.session.query(Customer).count() == len(TRICKY_ADDRESSES)  # the connection works (COPY cancelled)
