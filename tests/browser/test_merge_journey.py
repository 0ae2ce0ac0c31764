"""A clerk merges two duplicate customers in a real browser (Chinese UI): from the 360 page, finds
the duplicate by name, chooses field by field, confirms, and the duplicate's old 360 address then
leads to the survivor (issue 8.5)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models.customer import Customer
from tests.browser.conftest import sign_in
from tests.factories import make_customer

pytestmark = pytest.mark.browser


@pytest.fixture
def duplicates(actor):  # noqa: ANN001, ANN201
    clerk = actor("clerk1")
    keep = make_customer(clerk, name="孙七", city="杭州", email="")
    dup = make_customer(clerk, name="孙七", city="宁波", email="sun7@example.com")
    return keep.id, dup.id


def test_clerk_merges_duplicates_from_the_360_page(page, live_server, duplicates, app):  # noqa: ANN001
    keep, dup = duplicates
    sign_in(page, live_server, "clerk1")

    # From the survivor's 360 page, "合并…" leads to the search for the duplicate.
    page.goto(f"/customer360/{keep}")
    page.locator("#crm-merge-customer").click()
    page.wait_for_url(re.compile(rf"/customer-merge/{keep}$"))
    page.fill("#crm-merge-q", "孙七")
    with page.expect_navigation():
        page.locator("#crm-merge-search button[type='submit']").click()
    found = page.locator("#crm-merge-candidates tbody tr").filter(has_text=f"#{dup}")
    expect(found).to_have_count(1)
    expect(page.locator("#crm-merge-candidates tbody tr").filter(has_text=f"#{keep}")).to_have_count(0)
    found.locator("a.crm-merge-compare").click()
    page.wait_for_url(re.compile(rf"/customer-merge/{keep}/with/{dup}$"))

    # Side by side: keep the survivor's name, take the duplicate's city; the empty email defaults
    # to the duplicate's.
    city = page.locator('#crm-merge-fields tr[data-field="city"]')
    expect(city).to_contain_text("杭州")
    expect(city).to_contain_text("宁波")
    city.locator('input[value="merged"]').check()
    expect(page.locator('#crm-merge-fields tr[data-field="email"] input[value="merged"]')).to_be_checked()
    expect(page.locator('#crm-merge-fields tr[data-field="name"] input[value="survivor"]')).to_be_checked()
    page.locator("#crm-merge-confirm").click()

    # Back on the survivor's 360 page, with the message naming the merged record.
    page.wait_for_url(re.compile(rf"/customer360/{keep}$"))
    expect(page.locator(".alert-success")).to_contain_text(f"#{dup}")
    with app.app_context():
        survivor = db.session.get(Customer, keep)
        assert (survivor.name, survivor.city, survivor.email) == ("孙七", "宁波", "sun7@example.com")
        assert db.session.get(Customer, dup) is None

    # The duplicate's old address leads to the survivor.
    page.goto(f"/customer360/{dup}")
    page.wait_for_url(re.compile(rf"/customer360/{keep}$"))
    assert page.locator(".crm-360-head h2").inner_text().startswith("孙七")
    assert page.guard.external() == [], f"requests left 127.0.0.1: {page.guard.external()}"
    assert page.console_errors == []


def test_clerk_opens_the_merge_page_from_two_ticked_list_rows(page, live_server, duplicates):  # noqa: ANN001
    keep, dup = duplicates
    sign_in(page, live_server, "clerk1")

    page.goto("/customers/list/")
    # One ticked row: a message, still on the list.
    page.locator(f'input.action_check[value="{keep}"]').check()
    page.locator(".well .btn-group .dropdown-toggle").filter(has_text="操作").click()
    with page.expect_navigation():
        page.locator("a.merge_menu_item").click()
    expect(page.locator(".alert-warning")).to_contain_text("请恰好勾选两个客户进行合并")
    assert "/customers/list/" in page.url

    # Two ticked rows: the merge page for them, the older one as the survivor.
    page.locator(f'input.action_check[value="{dup}"]').check()
    page.locator(f'input.action_check[value="{keep}"]').check()
    page.locator(".well .btn-group .dropdown-toggle").filter(has_text="操作").click()
    page.locator("a.merge_menu_item").click()
    page.wait_for_url(re.compile(rf"/customer-merge/{keep}/with/{dup}$"))
    expect(page.locator("#crm-merge-form")).to_be_visible()
    assert page.guard.external() == [] and page.console_errors == []
