"""Property tests (hypothesis) for the readers and the import as a whole: any bytes give rows or a
file error naming `file` (never a crash), GBK/BOM/UTF-8 read alike, formula cells stay text, huge
files hit a clear limit, and a failed import writes nothing."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.models.customer import Customer
from app.models.import_job import ImportRun
from app.services.errors import Invalid
from app.services.exports import safe_cell
from app.services.importing import runner
from app.services.importing.readers import read_table
from app.services.validation import FieldError, check_id_number, check_mobile
from tests.imports.helpers import csv_bytes, person, xlsx_bytes

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
cell_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@SETTINGS
@given(data=st.binary(max_size=400), name=st.sampled_from(["f.csv", "f.xlsx"]))
def test_random_bytes_are_rows_or_a_file_error(ctx, data, name):
    try:
        table = read_table(name, data)
    except Invalid as exc:
        assert set(exc.errors) == {"file"}
    else:
        assert table.header and all(len(cells) == len(table.header) for _n, cells in table.rows)


@SETTINGS
@given(rows=st.lists(st.lists(cell_text, min_size=2, max_size=2), min_size=1, max_size=8),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_csv_round_trip_in_each_encoding(ctx, rows, encoding):
    import csv

    buf = io.StringIO()
    csv.writer(buf).writerows([["姓名", "备注"], *rows])
    expected = [[c.strip() for c in r] for r in rows if any(c.strip() for c in r)]
    if not expected:
        with pytest.raises(Invalid):
            read_table("f.csv", buf.getvalue().encode(encoding))
        return
    table = read_table("f.csv", buf.getvalue().encode(encoding))
    assert [cells for _n, cells in table.rows] == expected


@SETTINGS
@given(data=st.binary(min_size=1, max_size=300))
def test_broken_zip_is_a_file_error(ctx, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", data)
    with pytest.raises(Invalid) as exc:
        read_table("f.xlsx", buf.getvalue())
    assert set(exc.value.errors) == {"file"}


@SETTINGS
@given(value=st.text(max_size=30))
def test_validators_return_normalised_or_raise_field_error(ctx, value):
    for check in (check_mobile, check_id_number):
        try:
            out = check(value)
        except FieldError:
            continue
        assert check(out) == out  # normalised values validate again unchanged


def test_formula_cells_are_stored_as_text_and_neutralised_on_export(ctx, actor):
    p = person(1)
    data = xlsx_bytes(["姓名", "身份证号", "手机号", "地址"], [[p["name"], p["id_number"], p["mobile"], "=CMD()"]])
    assert read_table("f.xlsx", data).rows[0][1][3] == "=CMD()"  # the formula's text, not evaluated
    report = runner.run("customers", "f.xlsx", data, actor("clerk1"))
    assert report.created == 1
    address = db.session.execute(select(Customer.address)).scalar()
    assert address == "=CMD()" and safe_cell(address) == "'=CMD()"


def test_huge_files_hit_a_clear_limit_and_write_nothing(ctx, actor):
    data = csv_bytes(["姓名", "身份证号", "手机号"], [[person(n)["name"], person(n)["id_number"], person(n)["mobile"]]
                                                  for n in range(1, 30)])
    with pytest.raises(Invalid) as exc:
        read_table("f.csv", data, max_rows=10)
    assert "10" in " ".join(exc.value.errors["file"])
    with pytest.raises(Invalid) as exc:
        read_table("f.csv", data, max_bytes=100)
    assert "MB" in " ".join(exc.value.errors["file"])
    ctx.config["CRM_IMPORT_MAX_ROWS"] = 10
    try:
        with pytest.raises(Invalid):
            runner.run("customers", "f.csv", data, actor("clerk1"))
    finally:
        ctx.config.pop("CRM_IMPORT_MAX_ROWS")
    assert db.session.execute(select(func.count(Customer.id))).scalar() == 0
    assert db.session.execute(select(func.count(ImportRun.id))).scalar() == 0


@SETTINGS
@given(cells=st.lists(st.tuples(cell_text, cell_text, cell_text), min_size=1, max_size=5))
def test_import_of_junk_rows_writes_nothing_when_any_row_is_bad(ctx, actor, cells):
    """Random cells are (almost always) invalid: the run reports row and column and, since every
    row is in one batch, writes no customer at all unless every row was valid."""
    data = csv_bytes(["姓名", "身份证号", "手机号"], [["x" + a.replace(",", " ").replace("\n", " ").replace("\r", " "),
                                                  b.replace(",", " ").replace("\n", " ").replace("\r", " "),
                                                  c.replace(",", " ").replace("\n", " ").replace("\r", " ")]
                                                 for a, b, c in cells])
    try:
        report = runner.run("customers", "f.csv", data, actor("clerk1"))
    except Invalid as exc:
        assert "file" in exc.errors or exc.errors
        return
    finally:
        db.session.rollback()
    written = db.session.execute(select(func.count(Customer.id))).scalar()
    if report.failed:
        assert written == 0 and all(row >= 2 and isinstance(col, str) for row, col, _m in report.errors)
    db.session.execute(Customer.__table__.delete())
    db.session.commit()
