"""The Content-Security-Policy breaks nothing in a real browser: every menu page of an admin loads
with zero CSP violations, and the scripts that need nonces (FAB's inline blocks, select2, ECharts) run.

Chromium is driven from a worker thread with its own Playwright: tests/browser keeps a session-wide
Playwright in the main thread, and Playwright's sync API allows one per thread.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, NO_EGRESS_ARGS, LiveServer, OffMachineGuard
from tests.browser.data import make_rich_customer
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
});
"""


def _violations(page: Any) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


def _in_thread(fn: Any) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    worker = threading.Thread(target=run, name="csp-browser")
    worker.start()
    worker.join(timeout=300)
    assert not worker.is_alive(), "browser journey timed out"
    if errors:
        raise errors[0]


def _journey(base_url: str, customer_id: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + NO_EGRESS_ARGS)
        try:
            context = chromium.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, locale="zh-CN")
            context.set_default_timeout(15_000)
            guard = OffMachineGuard(base_url)
            context.on("request", guard.on_request)
            context.add_init_script(LISTEN)
            page = context.new_page()
            page_errors: list[str] = []
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            _visit_everything(page, base_url, customer_id)
            assert page_errors == []
            assert guard.external() == []
        finally:
            chromium.close()


def _visit_everything(page: Any, base_url: str, customer_id: int) -> None:
    page.goto("/login/")
    assert _violations(page) == []
    page.fill('input[name="username"]', "admin2")
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('input[type="submit"]')
    page.wait_for_url(base_url + "/")

    links = page.eval_on_selector_all(".navbar .dropdown-menu a[href^='/']",
                                      "els => els.map(e => e.getAttribute('href'))")
    urls = [u for u in dict.fromkeys(links) if not u.startswith(("/lang/", "/logout"))]
    assert len(urls) >= 10, urls
    urls += [f"/customer360/{customer_id}", "/customers/add", f"/customers/edit/{customer_id}", "/users/add"]
    problems = {}
    for url in urls:
        page.goto(url)
        page.wait_for_load_state("load")
        found = _violations(page)
        if found:
            problems[url] = found
    assert problems == {}

    # Scripts that CSP would have blocked really ran: select2 on the add form, the 360 usage chart.
    page.goto("/customers/add")
    assert page.locator(".select2-container").count() > 0
    page.goto(f"/customer360/{customer_id}")
    page.wait_for_selector("#crm-usage-chart canvas")
    assert _violations(page) == []

    # Control: an injected inline script (what an XSS would add) is refused and reported.
    ran = page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__injected = 1'; document.body.appendChild(s); return window.__injected || null; }""")
    assert ran is None
    page.wait_for_function("window.__cspViolations.length > 0")
    assert any(v.startswith("script-src") for v in _violations(page))


def test_admin_pages_load_without_csp_violations(app, actor):  # noqa: ANN001
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    customer_id = make_rich_customer(actor("clerk1"), mobile="13912340000", address="北京市朝阳区建国路1号").id
    server = LiveServer(app)
    server.start()
    try:
        _in_thread(lambda: _journey(server.url, customer_id))
    finally:
        server.stop()
