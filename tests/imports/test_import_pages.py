"""Import pages: upload → mapping → preview with per-row choices → run → result, roles, error CSV."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from app.extensions import db
from app.models.customer import Customer
from app.models.import_job import ImportRun
from tests.conftest import actor_for
from tests.factories import make_customer
from tests.imports.helpers import csv_bytes, person, xlsx_bytes

HEADER = ["姓名", "身份证号", "手机号", "城市"]


def _row(n: int, city: str = "杭州") -> list[str]:
    p = person(n)
    return [p["name"], p["id_number"], p["mobile"], city]


def _upload(c, data: bytes, name: str = "c.xlsx"):  # noqa: ANN001, ANN202
    return c.post("/imports/customers/upload", data={"file": (io.BytesIO(data), name)},
                  content_type="multipart/form-data")


def test_clerk_walks_through_the_steps(app, as_user):
    with app.app_context():
        for n in (1, 2):
            make_customer(actor_for("clerk1"), **person(n), city="北京")
    c = as_user("clerk1")
    assert c.get("/imports/customers/").status_code == 200
    bad = _row(4)
    bad[2] = "999"
    resp = _upload(c, xlsx_bytes(HEADER, [_row(1), _row(2), _row(3), bad]))
    assert resp.status_code == 302
    run_id = int(re.search(r"/imports/customers/(\d+)/mapping", resp.headers["Location"]).group(1))
    page = c.get(f"/imports/customers/{run_id}/mapping").get_data(as_text=True)
    # Chinese headers guessed; sample mobiles and IDs masked on screen.
    assert '<option value="mobile" selected' in page and person(3)["mobile"] not in page
    resp = c.post(f"/imports/customers/{run_id}/mapping", data={
        "col_0": "name", "col_1": "id_number", "col_2": "mobile", "col_3": "city",
        "match": ["id_number", "mobile"], "policy": "skip", "save_as": "网点模板"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/imports/customers/{run_id}/preview")
    page = c.get(f"/imports/customers/{run_id}/preview").get_data(as_text=True)
    assert 'data-create="1" data-update="0" data-skip="2" data-error="1"' in page
    assert 'id="crm-import-choice-2"' in page and 'id="crm-import-choice-3"' in page
    with app.app_context():
        assert db.session.execute(select(Customer.id)).all().__len__() == 2  # the preview wrote nothing
    resp = c.post(f"/imports/customers/{run_id}/run", data={"choice_2": "update", "choice_3": "skip",
                                                            "choice_5": "skip"})
    assert resp.status_code == 302
    page = c.get(f"/imports/customers/{run_id}/").get_data(as_text=True)
    assert 'data-created="1" data-updated="1" data-skipped="2" data-failed="0"' in page
    assert 'id="crm-import-errors-download"' in page
    csv_text = c.get(f"/imports/customers/{run_id}/errors.csv").get_data().decode("utf-8-sig")
    assert "5,mobile," in csv_text
    assert c.get(f"/imports/customers/{run_id}/progress").get_json()["status"] == "done"
    with app.app_context():
        cities = dict(db.session.execute(select(Customer.mobile, Customer.city)).all())
        assert cities[person(1)["mobile"]] == "杭州" and cities[person(2)["mobile"]] == "北京"
        assert db.session.get(ImportRun, run_id).payload is None
    # Running twice is refused; the saved mapping is offered next time.
    c.post(f"/imports/customers/{run_id}/run", data={})
    with app.app_context():
        assert len(db.session.execute(select(Customer.id)).all()) == 3
    resp = _upload(c, csv_bytes(HEADER, [_row(9)]), "again.csv")
    run2 = int(re.search(r"/(\d+)/mapping", resp.headers["Location"]).group(1))
    assert "网点模板" in c.get(f"/imports/customers/{run2}/mapping").get_data(as_text=True)


def test_bad_upload_and_bad_mapping_are_messages(app, as_user):
    c = as_user("clerk1")
    resp = _upload(c, b"not a workbook")
    assert resp.status_code == 422 and 'id="crm-import-file-error"' in resp.get_data(as_text=True)
    resp = _upload(c, b"\x00\x01", "x.pdf")
    assert resp.status_code == 422
    resp = _upload(c, csv_bytes(HEADER, [_row(1)]), "c.csv")
    run_id = int(re.search(r"/(\d+)/mapping", resp.headers["Location"]).group(1))
    resp = c.post(f"/imports/customers/{run_id}/mapping", data={"col_0": "name", "col_1": "name", "policy": "x"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "crm-import-mapping-error" in page


def test_runs_are_private_and_roles_apply(app, as_user):
    c = as_user("clerk1")
    resp = _upload(c, csv_bytes(HEADER, [_row(1)]), "c.csv")
    run_id = int(re.search(r"/(\d+)/mapping", resp.headers["Location"]).group(1))
    c = as_user("sales1")
    assert c.get("/imports/customers/").status_code in (302, 403)
    assert c.get("/imports/leads/").status_code == 200
    c = as_user("agent1")
    for url in ("/imports/customers/", "/imports/leads/", "/imports/plans/"):
        assert c.get(url).status_code in (302, 403)
    c = as_user("manager")
    assert c.get(f"/imports/customers/{run_id}/").status_code == 200  # managers see every run
    assert c.get("/imports/plans/").status_code == 200
    c = as_user("admin2")
    assert c.get("/imports/customers/999999/").status_code == 404


def test_big_file_runs_in_the_background_with_progress(app, as_user, monkeypatch):
    import time

    from app.views import imports as views

    monkeypatch.setattr(views, "BACKGROUND_ROWS", 1)
    c = as_user("clerk1")
    resp = _upload(c, csv_bytes(HEADER, [_row(n) for n in (1, 2, 3)]), "big.csv")
    run_id = int(re.search(r"/(\d+)/mapping", resp.headers["Location"]).group(1))
    c.post(f"/imports/customers/{run_id}/mapping", data={"col_0": "name", "col_1": "id_number", "col_2": "mobile",
                                                         "match": ["id_number"], "policy": "skip"})
    assert c.post(f"/imports/customers/{run_id}/run", data={}).status_code == 302
    page = c.get(f"/imports/customers/{run_id}/").get_data(as_text=True)
    assert "crm/imports.js" in page
    for _i in range(100):
        progress = c.get(f"/imports/customers/{run_id}/progress").get_json()
        if progress["status"] == "done":
            break
        time.sleep(0.1)
    assert progress["status"] == "done" and progress["created"] == 3 and progress["percent"] == 100
