"""Lead import: the entry checks per row (shared validators, duplicates against leads, customers and
the file itself), a per-row report, dry run writes nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models.lead import Lead
from app.services import leads
from app.services.errors import Invalid
from tests.conftest import actor_for
from tests.factories import make_customer
from tests.sales.conftest import make_lead

CSV = (
    "name,mobile,source,interest\n"
    "张一,13911110001,hotline,5G\n"
    "张二,12345,hotline,\n"              # row 3: bad mobile
    "张三,13822220002,website,\n"        # row 4: already a customer
    "张四,13911110001,partner,\n"        # row 5: same as row 2
    "张五,13933330003,radio,\n"          # row 6: unknown source
    "张六,13944440004,campaign,宽带\n"
)


def test_dry_run_reports_every_bad_row_and_writes_nothing(ctx, actor):
    make_customer(actor("sales2"), mobile="13822220002")
    report = leads.import_file("leads.csv", CSV.encode("utf-8-sig"), actor("sales1"), dry_run=True)
    assert (report.rows, report.valid, report.created) == (6, 2, 0)
    assert {row: set(errs) for row, errs in report.errors} == {3: {"mobile"}, 4: {"mobile"}, 5: {"mobile"},
                                                               6: {"source"}}
    assert db.session.execute(select(func.count(Lead.id))).scalar() == 0


def test_import_writes_the_valid_rows_as_own_leads(ctx, actor):
    make_customer(actor("sales2"), mobile="13822220002")
    report = leads.import_file("leads.csv", CSV.encode(), actor("sales1"))
    assert report.created == 2
    rows = db.session.execute(select(Lead).order_by(Lead.id)).scalars().all()
    assert [(r.name, r.owner_id, r.status) for r in rows] == [("张一", actor("sales1").id, "new"),
                                                             ("张六", actor("sales1").id, "new")]
    assert rows[0].priority_score == 25 + 10 + 30
    # A second import of the same file finds them as duplicates of open leads.
    again = leads.import_file("leads.csv", CSV.encode(), actor("sales2"), dry_run=True)
    assert again.valid == 0


def test_xlsx_and_bad_files(ctx, actor):
    make_lead(mobile="13955550005")
    wb = Workbook()
    ws = wb.active
    ws.append(["name", "mobile", "source"])
    ws.append(["李一", "13955550005", "walk_in"])
    ws.append(["李二", 13955550006, "walk_in"])
    buf = io.BytesIO()
    wb.save(buf)
    report = leads.import_file("x.xlsx", buf.getvalue(), actor("sales1"))
    assert report.created == 1 and report.errors[0][0] == 2
    for name, data in (("x.txt", b"a"), ("x.csv", b""), ("x.csv", b"colour\nred\n"), ("x.xlsx", b"nope"),
                       ("x.csv", "name,mobile,source\n".encode("gbk") + "王".encode("gbk"))):
        with pytest.raises(Invalid) as exc:
            leads.import_file(name, data, actor("sales1"))
        assert "file" in exc.value.errors, name


def test_import_page(app, as_user):
    c = as_user("sales1")
    assert c.get("/leads/import").status_code == 200
    resp = c.post("/leads/import", data={"file": (io.BytesIO(CSV.encode()), "leads.csv")},
                  content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'data-created="3"' in page and 'id="crm-import-errors"' in page
    resp = c.post("/leads/import", data={"file": (io.BytesIO(b"x"), "leads.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 422 and 'id="crm-import-file-error"' in resp.get_data(as_text=True)
    with app.app_context():
        assert {r.owner_id for r in db.session.execute(select(Lead)).scalars()} == {actor_for("sales1").id}
    assert as_user("agent1").get("/leads/import").status_code in (302, 403)
