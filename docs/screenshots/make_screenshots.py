"""Make docs/screenshots/customer360.png: the customer 360 page, Chinese UI, 1280 px wide.

    .venv/bin/python docs/screenshots/make_screenshots.py

Builds a throw-away SQLite database in a temporary directory, creates one customer with a plan,
a plan change, 12 months of usage, bills, payments and a profile update (tests/browser/data.py),
serves the app on 127.0.0.1 and photographs the page with Debian's Chromium (/usr/bin/chromium).
Nothing outside the temporary directory and the PNG is touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
PASSWORD = "screenshot-pass-2026"  # noqa: S105 - a throw-away user in a temporary database


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="crm-screenshot-"))
    os.environ.update({
        "CRM_INSTANCE_DIR": str(tmp / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp / 'crm.db'}",
        "CRM_SCHEDULER": "off",
        "CRM_ENV": "development",
    })
    os.environ.pop("CRM_SECRET_KEY", None)
    os.environ.pop("CRM_FIELD_KEY", None)
    sys.path.insert(0, str(ROOT))

    from playwright.sync_api import sync_playwright

    from app import create_app
    from app.services import customers, setup
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, NO_EGRESS_ARGS, LiveServer
    from tests.browser.data import make_rich_customer
    from tests.conftest import actor_for

    app = create_app({"WTF_CSRF_ENABLED": False})
    with app.app_context():
        setup.init()
        setup.create_user("clerk1", PASSWORD, "Clerk")
        clerk = actor_for("clerk1")
        customer = make_rich_customer(clerk, mobile="13912345678", address="北京市朝阳区建国路88号")
        customers.update(customer.id, {"address": "北京市海淀区中关村大街27号", "email": "wxm@example.cn"}, clerk)
        customer_id = customer.id

    server = LiveServer(app)
    server.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=CHROMIUM_ARGS + NO_EGRESS_ARGS)
            page = browser.new_page(base_url=server.url, viewport={"width": 1280, "height": 900},
                                    locale="zh-CN", device_scale_factor=1)
            page.goto("/login/")
            page.fill('input[name="username"]', "clerk1")
            page.fill('input[name="password"]', PASSWORD)
            page.click('input[type="submit"]')
            page.wait_for_url(f"{server.url}/")
            page.goto("/lang/zh")
            page.goto(f"/customer360/{customer_id}")
            page.locator("#crm-usage-chart canvas, #crm-usage-chart svg").first.wait_for()
            page.wait_for_timeout(1200)  # let the chart's entry animation finish
            target = OUT / "customer360.png"
            page.screenshot(path=str(target), full_page=True)
            browser.close()
    finally:
        server.stop()
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
