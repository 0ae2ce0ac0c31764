"""Browser fixtures: the session app served on 127.0.0.1, and Debian's Chromium driven by Playwright.

The app is the session `app` fixture from tests/conftest.py (SQLite file or a real PostgreSQL
database), so data a test creates through the services is what the server thread shows.
Playwright cannot download its own browser here; it drives /usr/bin/chromium (CI apt-installs it).
On a failing test the page is saved to test-artifacts/<test name>.png (gitignored).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import TEST_PASSWORD

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
# Safety net: anything not on 127.0.0.1 goes to a closed local port and fails at once. The tests
# still see such a request (page.on("request")) and fail on it; nothing leaves the machine.
NO_EGRESS_ARGS = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # one line per static file is noise
        pass


class LiveServer:
    """A werkzeug server for `app` in a daemon thread on 127.0.0.1 and a free port."""

    def __init__(self, app: Any) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="crm-live-server", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(app: Any) -> Iterator[LiveServer]:
    server = LiveServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=CHROMIUM_ARGS + NO_EGRESS_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class OffMachineGuard:
    """Records every request a page makes; `external()` lists those not for our server.

    Observing (rather than routing every request through Playwright) keeps the browser's cache on
    and page loads fast; NO_EGRESS_ARGS makes sure an external request cannot succeed anyway.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.requests: list[str] = []

    def is_local(self, url: str) -> bool:
        # data:, blob: and about: URLs never touch the network; everything else must be our server.
        return url == self.base_url or url.startswith((self.base_url + "/", "data:", "blob:", "about:"))

    def on_request(self, request: Any) -> None:
        self.requests.append(request.url)

    def external(self) -> list[str]:
        return sorted({u for u in self.requests if not self.is_local(u)})


@pytest.fixture
def page(browser: Any, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="zh-CN",
    )
    context.set_default_timeout(15_000)
    guard = OffMachineGuard(live_server.url)
    context.on("request", guard.on_request)
    page = context.new_page()
    page.guard = guard
    console_errors: list[str] = []
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    page.console_errors = console_errors
    try:
        yield page
    finally:
        failed = any(getattr(getattr(request.node, f"rep_{when}", None), "failed", False)
                     for when in ("setup", "call"))
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::")[-1])
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                (ARTIFACTS / f"{name}.html").write_text(page.content(), encoding="utf-8")
            except Exception as exc:  # best effort: never hide the real failure
                print(f"could not save failure screenshot: {exc}")
        context.close()


def sign_in(page: Any, live_server: Any, username: str) -> None:
    """Sign in through the login form, as a user would, and wait for the home page."""
    page.goto("/login/")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('input[type="submit"]')
    page.wait_for_url(live_server.url + "/")
