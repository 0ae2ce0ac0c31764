"""A clerk imports an XLSX with two duplicates in a real browser: chooses update for one and skip for
the other in the preview, runs it, and sees the result (issue 8.6)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.customer import Customer
from tests.browser.conftest import sign_in
from tests.factories import make_customer
from tests.imports.helpers import person, xlsx_bytes

pytestmark = pytest.mark.browser


@pytest.fixture
def existing(actor):  # noqa: ANN001, ANN201
    return [make_customer(actor("clerk1"), **person(n), city="北京") for n in (1, 2)]


def test_clerk_imports_xlsx_choosing_update_and_skip(page, live_server, existing, tmp_path, app):  # noqa: ANN001
    rows = [[person(n)["name"] + ("改" if n == 1 else ""), person(n)["id_number"], person(n)["mobile"], "杭州"]
            for n in (1, 2, 3, 4)]
    path = tmp_path / "客户名单.xlsx"
    path.write_bytes(xlsx_bytes(["姓名", "身份证号", "手机号", "城市"], rows))

    sign_in(page, live_server, "clerk1")

    page.goto("/imports/customers/")
    page.set_input_files('#crm-import-upload-form input[name="file"]', str(path))
    page.click("#crm-import-upload-button")
    page.wait_for_url(re.compile(r"/imports/customers/\d+/mapping$"))
    # Chinese headers mapped by themselves.
    assert page.locator("#crm-import-col-0").input_value() == "name"
    assert page.locator("#crm-import-col-1").input_value() == "id_number"
    assert page.locator("#crm-import-col-2").input_value() == "mobile"
    assert page.locator("#crm-import-col-3").input_value() == "city"
    page.click("#crm-import-to-preview")
    page.wait_for_url(re.compile(r"/imports/customers/\d+/preview$"))

    summary = page.locator("#crm-import-preview-summary")
    assert summary.get_attribute("data-create") == "2" and summary.get_attribute("data-skip") == "2"
    assert page.locator("tr.crm-import-row").count() == 2
    page.select_option("#crm-import-choice-2", "update")
    page.select_option("#crm-import-choice-3", "skip")
    page.click("#crm-import-run-button")
    page.wait_for_url(re.compile(r"/imports/customers/\d+/$"))

    counts = page.locator("#crm-import-counts")
    assert (counts.get_attribute("data-created"), counts.get_attribute("data-updated"),
            counts.get_attribute("data-skipped"), counts.get_attribute("data-failed")) == ("2", "1", "1", "0")
    assert page.locator("#crm-import-status").inner_text().strip()
    with app.app_context():
        got = {c.mobile: (c.name, c.city) for c in db.session.execute(select(Customer)).scalars()}
    assert got[person(1)["mobile"]] == (person(1)["name"] + "改", "杭州")  # updated in place
    assert got[person(2)["mobile"]] == (person(2)["name"], "北京")  # skipped
    assert len(got) == 4
    assert page.guard.external() == [], f"requests left 127.0.0.1: {page.guard.external()}"
    assert page.console_errors == []
