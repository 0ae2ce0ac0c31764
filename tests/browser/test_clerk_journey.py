"""A clerk's day in a real browser: sign in, switch language, find a customer by mobile, edit the address.

Asserts on what the user sees, and that nothing the pages load comes from off this machine.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.data import make_rich_customer

pytestmark = pytest.mark.browser

MOBILE = "13912345678"
OLD_ADDRESS = "北京市朝阳区建国路88号"
NEW_ADDRESS = "北京市海淀区中关村大街27号"
CJK = re.compile(r"[\u4e00-\u9fff]")


FLAGS = {"en": "gb", "zh": "cn"}  # config.LANGUAGES: the flag the navbar shows for the current language


def _switch_language(page, code: str) -> None:  # noqa: ANN001
    """Pick a language from the navbar's flag menu, as a user would; FAB comes back to the same page."""
    before = page.url
    page.locator(".navbar .dropdown-toggle:has(i.flag)").click()
    with page.expect_navigation(url=before):
        page.locator(f'.navbar .dropdown-menu a[href$="/lang/{code}"]').click()
    expect(page.locator(f".navbar .dropdown-toggle i.flag.{FLAGS[code]}")).to_be_visible()


@pytest.fixture
def customer(actor):  # noqa: ANN001, ANN201
    return make_rich_customer(actor("clerk1"), mobile=MOBILE, address=OLD_ADDRESS)


def test_clerk_finds_customer_by_mobile_and_updates_address(page, live_server, customer):  # noqa: ANN001
    # Sign in.
    sign_in(page, live_server, "clerk1")
    assert page.locator("#crm-quick-search").is_visible()

    # Switch to English with the navbar's language menu, then back to Chinese.
    _switch_language(page, "en")
    assert page.get_by_role("heading", name="Telecom CRM back office").is_visible()
    search = page.locator("#crm-quick-search")
    assert search.get_attribute("placeholder") == "Search customers: name, mobile or resident ID"

    _switch_language(page, "zh")
    heading = page.locator(".jumbotron h2").inner_text()
    assert heading != "Telecom CRM back office" and CJK.search(heading), f"start page not in Chinese: {heading!r}"
    assert CJK.search(page.locator("#crm-quick-search").get_attribute("placeholder") or "")

    # The rest of the journey in English, where the expected labels are the source strings.
    _switch_language(page, "en")

    # Quick search by mobile goes straight to the 360 page.
    page.fill("#crm-quick-search", MOBILE)
    page.press("#crm-quick-search", "Enter")
    page.wait_for_url(re.compile(rf"/customer360/{customer.id}$"))
    assert page.locator(".crm-360-head h2").inner_text().startswith("王晓明")

    # Personal data masked, carrier derived from the number.
    identity = page.locator("#crm-identity")
    assert identity.locator('[data-field="mobile"]').inner_text() == "139****5678"
    id_shown = identity.locator('[data-field="id_number"]').inner_text()
    assert re.fullmatch(r"\d{3}\*{11}[\dX]{4}", id_shown), id_shown
    assert MOBILE not in page.content(), "the full mobile number reached the page"
    assert identity.locator(".crm-carrier").inner_text() == "China Mobile"
    assert page.locator("#crm-address").inner_text() == OLD_ADDRESS

    # Plan, bills and arrears from the data.
    assert "畅享129元5G套餐" in page.locator("#crm-plans").inner_text()
    assert page.locator("#crm-bills tbody tr").count() == 12
    assert "¥" in page.locator("#crm-arrears").inner_text()

    # The usage chart really rendered (ECharts draws into a canvas or an svg).
    chart = page.locator("#crm-usage-chart")
    chart.locator("canvas, svg").first.wait_for(state="visible")
    box = chart.locator("canvas, svg").first.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 150, box

    # Edit the address and save.
    page.click("#crm-edit-customer")
    page.wait_for_url(re.compile(rf"/customers/edit/{customer.id}"))
    address = page.locator('input[name="address"], textarea[name="address"]')
    assert address.input_value() == OLD_ADDRESS
    assert page.locator('input[name="mobile"]').input_value() == "139****5678"
    address.fill(NEW_ADDRESS)
    page.locator('form button[type="submit"], form input[type="submit"]').first.click()
    page.wait_for_url(re.compile(rf"/customer360/{customer.id}$"))

    # The new address, and the change in the business history with old → new.
    assert page.locator("#crm-address").inner_text() == NEW_ADDRESS
    history = page.locator("#crm-history .list-group-item").filter(has_text="Profile update")
    assert history.count() == 1
    entry = history.first
    assert entry.locator("del").inner_text() == OLD_ADDRESS
    assert f"{OLD_ADDRESS} → {NEW_ADDRESS}" in entry.inner_text()
    assert "clerk1" in entry.inner_text()
    # Masked values did not overwrite the stored ones.
    assert page.locator('#crm-identity [data-field="mobile"]').inner_text() == "139****5678"

    # The 360 page in Chinese, too.
    _switch_language(page, "zh")
    history_heading = page.locator("#crm-history .panel-heading").inner_text().strip()
    assert CJK.search(history_heading), f"360 page not in Chinese: {history_heading!r}"
    assert page.locator("#crm-address").inner_text() == NEW_ADDRESS

    # Nothing loaded from off this machine, and no script errors.
    assert page.guard.requests, "no requests were observed"
    assert page.guard.external() == [], f"requests left 127.0.0.1: {page.guard.external()}"
    assert page.console_errors == []


def test_off_machine_requests_are_seen_and_go_nowhere(page, live_server):  # noqa: ANN001
    """The guard the journey relies on: an external resource is recorded, and it does not load."""
    page.goto("/login/")
    failed: list[str] = []
    page.on("requestfailed", lambda req: failed.append(req.url))
    page.evaluate("""() => new Promise(done => {
        const img = new Image(); img.onload = img.onerror = () => done(); img.src = "http://203.0.113.7/x.png";
    })""")
    assert page.guard.external() == ["http://203.0.113.7/x.png"]
    assert failed == ["http://203.0.113.7/x.png"]
