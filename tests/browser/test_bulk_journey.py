"""A manager filters the customer list by city in a real browser (Chinese UI), runs the bulk action
"add a tag" on the whole filter — more records than one page shows — checks the count preview,
confirms, sees the result, and exactly the filtered customers carry the tag (issue 8.2)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models.tag import Tag, customer_tag
from tests.browser.conftest import sign_in
from tests.bulk.conftest import make_customers

pytestmark = pytest.mark.browser

TAG = "五一回访"


@pytest.fixture
def cities(app):  # noqa: ANN001, ANN201
    with app.app_context():
        return {"杭州": set(make_customers(14, "杭州")), "南京": set(make_customers(4, "南京"))}


def test_manager_tags_every_customer_of_the_filtered_list(page, live_server, cities, app):  # noqa: ANN001
    sign_in(page, live_server, "manager")

    page.goto("/customers/list/")
    page.locator("#accordion1 a.accordion-toggle").click()  # the search panel (搜索)
    page.locator("#filter_form .dropdown-toggle").click()
    page.locator('#filter_form a.filter[name="city"]').click()
    city = page.locator('#filter_form input[name$="_city"]')
    city.fill("杭州")
    with page.expect_navigation():
        city.press("Enter")
    assert re.search(r"_flt_\d_city=", page.url)
    rows = page.locator('table tr:has(input[name="rowid"])')
    assert rows.count() == 14
    # Ten rows a page (FAB's page-size choice), so the filter matches more records than it shows.
    page.goto(page.url.split("#")[0] + "&psize_CustomerModelView=10")
    assert rows.count() == 10

    # The bulk page counts the whole filter, not the page.
    page.locator("#crm-bulk-link").click()
    page.wait_for_url(re.compile(r"/customers/bulk/\?.*_city="))
    expect(page.locator("#crm-bulk-count")).to_have_attribute("data-count", "14")
    assert "14" in page.locator("#crm-bulk-count").inner_text()
    tag_form = page.locator('form.crm-bulk-action[data-action="tag"]')
    tag_form.locator('input[name="tag"]').fill(TAG)
    tag_form.locator('button[type="submit"]').click()

    # Confirmation names the count before anything changes.
    confirm = page.locator("#crm-bulk-confirm")
    expect(confirm).to_be_visible()
    assert TAG in confirm.inner_text()
    with app.app_context():
        assert db.session.execute(select(Tag.id).where(Tag.name == TAG)).first() is None
    button = page.locator("#crm-bulk-confirm-button")
    assert "14" in button.inner_text()
    button.click()

    # The result: finished, 14 changed, nothing skipped or failed.
    page.wait_for_url(re.compile(r"/customers/bulk/job/\d+$"))
    expect(page.locator("#crm-bulk-status")).to_have_attribute("data-status", "done")
    expect(page.locator("#crm-bulk-status")).to_have_text("已完成")
    expect(page.locator("#crm-bulk-done")).to_have_text("14")
    expect(page.locator("#crm-bulk-skipped")).to_have_text("0")
    expect(page.locator("#crm-bulk-failed")).to_have_text("0")

    with app.app_context():
        tag_id = db.session.execute(select(Tag.id).where(Tag.name == TAG)).scalar_one()
        tagged = set(db.session.execute(
            select(customer_tag.c.customer_id).where(customer_tag.c.tag_id == tag_id)).scalars())
    assert tagged == cities["杭州"]
    assert page.guard.external() == [], f"requests left 127.0.0.1: {page.guard.external()}"
    assert page.console_errors == []
