"""A clerk saves a view of the customer list in a real browser (Chinese UI): a city filter and a
choice of columns, pins it to the home page, sees its live count there (it follows new records),
and opens it again from there with the same filter and columns (issue 8.4)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.bulk.conftest import make_customers

pytestmark = pytest.mark.browser

VIEW = "杭州客户跟进"
COLUMNS = ["name", "city", "status_label"]


@pytest.fixture
def hangzhou(app):  # noqa: ANN001, ANN201
    with app.app_context():
        make_customers(2, "南京")
        return make_customers(3, "杭州")


def _header(page) -> list[str]:  # noqa: ANN001
    return [t.strip() for t in page.locator("table:has(input[name='rowid']) thead th, "
                                            "table:has(a[href*='/customers/show/']) thead th").all_inner_texts()]


def test_clerk_saves_pins_and_reopens_a_view(page, live_server, hangzhou, app):  # noqa: ANN001
    sign_in(page, live_server, "clerk1")
    expect(page.locator("#crm-pinned-views")).to_have_count(0)

    # Filter the list by city.
    page.goto("/customers/list/")
    page.locator("#accordion1 a.accordion-toggle").click()  # the search panel (搜索)
    page.locator("#filter_form .dropdown-toggle").click()
    page.locator('#filter_form a.filter[name="city"]').click()
    city = page.locator('#filter_form input[name$="_city"]')
    city.fill("杭州")
    with page.expect_navigation():
        city.press("Enter")
    rows = page.locator("table tr:has(a[href*='/customers/show/'])")
    expect(rows).to_have_count(3)

    # Choose the columns: name, city and status only.
    page.locator("#crm-choose-columns summary").click()
    boxes = page.locator('#crm-choose-columns input[type="checkbox"]')
    for i in range(boxes.count()):
        box = boxes.nth(i)
        box.set_checked(box.get_attribute("value") in COLUMNS)
    with page.expect_navigation():
        page.locator("#crm-choose-columns button[type='submit']").click()
    assert re.search(r"_flt_\d_city=", page.url) and "cols_CustomerModelView" in page.url
    expect(rows).to_have_count(3)
    assert "客户编号" not in " ".join(_header(page)) and "城市" in " ".join(_header(page))
    columns_shown = _header(page)

    # Save it under a name.
    page.fill('#crm-save-view input[name="name"]', VIEW)
    with page.expect_navigation():
        page.locator('#crm-save-view button[type="submit"]').click()
    expect(page.locator(".alert-success")).to_contain_text(VIEW)
    expect(page.locator("#crm-saved-views-menu a.crm-saved-view")).to_have_text([VIEW])

    # Pin it to the home page.
    page.locator("details.crm-manage-views summary").click()
    row = page.locator("#crm-saved-views-table tr").filter(has_text=VIEW)
    with page.expect_navigation():
        row.locator("button[type='submit']").filter(has_text="首页").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(row.locator(".label-success")).to_have_count(1)  # "on the home page", in the closed manager

    # The home page shows it with the count its list shows now…
    page.goto("/")
    pinned = page.locator("#crm-pinned-views tr").filter(has_text=VIEW)
    expect(pinned.locator(".crm-pinned-count")).to_have_text("3")
    # …and the count is live: one more customer in Hangzhou is counted at the next visit.
    with app.app_context():
        make_customers(1, "杭州")
    page.reload()
    expect(pinned.locator(".crm-pinned-count")).to_have_text("4")

    # Open it again: the same filter and the same columns.
    with page.expect_navigation():
        pinned.locator("a").first.click()
    page.wait_for_url(re.compile(r"/customers/list/\?.*_city="))
    expect(rows).to_have_count(4)
    assert _header(page) == columns_shown
    for i in range(4):
        assert "杭州" in rows.nth(i).inner_text()
    assert page.guard.external() == [], f"requests left 127.0.0.1: {page.guard.external()}"
    assert page.console_errors == []
