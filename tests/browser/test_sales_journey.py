"""A salesperson's deal in a real browser (issue 3): sales1 logs a call on a lead, converts it,
moves the opportunity through intent and negotiation to won, creates an order and submits it;
the manager approves it. Selectors are ids and data attributes, so the journey runs in any language."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models.care import CareTask
from app.models.lead import Lead
from app.models.order import SalesOrder
from tests.browser.conftest import sign_in
from tests.factories import make_plan
from tests.sales.conftest import an_id_number, make_lead

pytestmark = pytest.mark.browser


def _login(page, live_server, username: str) -> None:  # noqa: ANN001
    page.goto("/logout/")
    sign_in(page, live_server, username)


@pytest.fixture
def deal(actor):  # noqa: ANN001, ANN201
    plan = make_plan(actor("manager"), name="畅享199元5G套餐", monthly_fee="199.00")
    lead = make_lead("sales1", name="赵六", mobile="13966667777", source="walk_in", id_number=an_id_number(),
                     interest_plan_id=plan.id)
    return {"lead_id": lead.id, "plan_id": plan.id}


def test_sales_journey_from_lead_to_approved_order(page, live_server, deal, app):  # noqa: ANN001
    _login(page, live_server, "sales1")

    # The lead page: priority explained, the full mobile never on the page.
    page.goto(f"/leads/show/{deal['lead_id']}")
    expect(page.locator("#crm-lead-score")).to_have_text("85")
    assert "13966667777" not in page.content()

    # Log a call with a next contact date.
    next_date = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    page.select_option("#method", "phone")
    page.fill("#content", "介绍了5G套餐")
    page.fill("#feedback", "有兴趣")
    page.fill("#next_step", "发送套餐对比")
    page.fill("#next_contact_date", next_date)
    page.click("#crm-sales-log-submit")
    page.wait_for_url(re.compile(rf"/leads/show/{deal['lead_id']}$"))
    expect(page.locator("#crm-sales-log-list .crm-sales-log")).to_have_count(1)
    expect(page.locator("#crm-sales-log-list")).to_contain_text("介绍了5G套餐")

    # Convert: customer and opportunity in one step.
    page.click("#crm-lead-convert")
    page.fill("#expected_revenue", "2388.00")
    page.click("#crm-convert-submit")
    page.wait_for_url(re.compile(r"/opportunities/show/\d+$"))
    opp_url = page.url
    expect(page.locator("#crm-opp-stage")).to_have_attribute("data-stage", "potential")
    expect(page.locator("#crm-opp-playbook .crm-playbook-action")).to_have_count(1)

    # Move through the stages with the page's buttons.
    for stage in ("intent", "negotiation", "won"):
        page.click(f'#crm-opp-moves button.crm-opp-move[data-stage="{stage}"]')
        page.wait_for_url(opp_url)
        expect(page.locator("#crm-opp-stage")).to_have_attribute("data-stage", stage)
    expect(page.locator("#crm-opp-history .crm-history-to")).to_have_count(4)

    # Create the order: the new plan on a new number, at a discount.
    page.click("#crm-opp-new-order")
    page.select_option('select[name="kind_0"]', "plan")
    page.select_option('select[name="plan_id_0"]', str(deal["plan_id"]))
    page.fill('input[name="number_0"]', "13766668888")
    page.fill('input[name="unit_price_0"]', "169.00")
    page.click("#crm-order-submit")
    page.wait_for_url(re.compile(r"/orders/show/\d+$"))
    order_url = page.url
    expect(page.locator("#crm-order-state")).to_have_attribute("data-state", "draft")
    expect(page.locator("#crm-order-total")).to_have_text("¥169.00")
    page.click('#crm-order-moves button[data-state="submitted"]')
    page.wait_for_url(order_url)
    expect(page.locator("#crm-order-state")).to_have_attribute("data-state", "submitted")
    expect(page.locator("#crm-order-waiting")).to_be_visible()
    expect(page.locator('#crm-order-moves button[data-state="approved"]')).to_have_count(0)

    # The manager approves it.
    _login(page, live_server, "manager")
    page.goto(order_url)
    page.locator('#crm-order-moves form:has(button[data-state="approved"]) input[name="note"]').fill("同意")
    page.click('#crm-order-moves button[data-state="approved"]')
    page.wait_for_url(order_url)
    expect(page.locator("#crm-order-state")).to_have_attribute("data-state", "approved")

    with app.app_context():
        assert db.session.get(Lead, deal["lead_id"]).status == "converted"
        order = db.session.execute(db.select(SalesOrder)).scalar_one()
        assert order.state == "approved" and order.decided_by.username == "manager"
        task = db.session.execute(db.select(CareTask)).scalar_one()
        assert task.source_type == "lead" and task.due_date.isoformat() == next_date

    assert page.guard.external() == [], f"requests left 127.0.0.1: {page.guard.external()}"
    assert page.console_errors == []


def test_board_drag_moves_a_card_through_the_same_rules(page, live_server, app, actor):  # noqa: ANN001
    from app.models.opportunity import Opportunity
    from tests.sales.conftest import make_opportunity

    opp = make_opportunity("sales1")
    _login(page, live_server, "sales1")
    page.goto("/sales/board/")
    card = page.locator(f'.crm-board-card[data-opportunity-id="{opp.id}"]')
    page.drag_and_drop(f'.crm-board-card[data-opportunity-id="{opp.id}"]', '.crm-board-column[data-stage="won"]')
    page.wait_for_timeout(300)  # an illegal drop (potential → won) does nothing
    expect(page.locator(f'.crm-board-column[data-stage="potential"] [data-opportunity-id="{opp.id}"]')).to_have_count(1)
    with page.expect_navigation():
        card.drag_to(page.locator('.crm-board-column[data-stage="intent"]'))
    expect(page.locator(f'.crm-board-column[data-stage="intent"] [data-opportunity-id="{opp.id}"]')).to_have_count(1)
    with app.app_context():
        assert db.session.get(Opportunity, opp.id).stage == "intent"
    assert page.console_errors == []
