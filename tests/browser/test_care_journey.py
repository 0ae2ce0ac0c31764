"""A clerk's follow-up in a real browser (issue 5 point 8): open My follow-ups from the menu, record a
call as "not reached", and see the task rescheduled (+ the rule's retry days) with the attempt counted.

Asserts on what the user sees, and that nothing the pages load comes from off this machine.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.care import CareRule, CareTask
from app.services import care
from tests.browser.conftest import sign_in
from tests.factories import make_customer

pytestmark = pytest.mark.browser


@pytest.fixture
def task(actor):  # noqa: ANN001, ANN201
    clerk = actor("clerk1")
    customer = make_customer(clerk, name="赵敏")
    rule = db.session.execute(select(CareRule).where(CareRule.code == "new_customer_revisit")).scalar_one()
    today = care.business_date(utcnow())  # the day the agenda page works with
    t = CareTask(rule_id=rule.id, customer_id=customer.id, occurrence_key="d7", due_date=today,
                 assignee_id=clerk.id, status="open", priority="normal")
    db.session.add(t)
    db.session.commit()
    return {"id": t.id, "today": today, "retry_days": rule.retry_days, "max": rule.max_attempts}


def test_clerk_records_not_reached_and_sees_the_task_rescheduled(page, live_server, task):  # noqa: ANN001
    sign_in(page, live_server, "clerk1")
    page.goto("/lang/en")  # the expected labels are the source strings

    # Open My follow-ups from the menu.
    page.locator('.navbar a.dropdown-toggle:has-text("Care")').click()
    page.locator('.navbar a[href="/care/"]').click()
    page.wait_for_url(live_server.url + "/care/")
    card = page.locator(f'.crm-care-task[data-task-id="{task["id"]}"]')
    expect(card).to_be_visible()
    expect(card.locator(".crm-care-customer")).to_have_text("赵敏")
    expect(card.locator(".crm-care-reason")).to_contain_text("Day 7")
    expect(page.locator('#crm-care-tabs li[data-tab="today"] .badge')).to_have_text("1")

    # The customer did not answer.
    card.locator('select[name="outcome"]').select_option("not_reached")
    card.locator('input[name="notes"]').fill("无人接听")
    card.locator('button[type="submit"]').click()
    page.wait_for_url(f"{live_server.url}/care/?tab=today")
    new_due = task["today"] + dt.timedelta(days=task["retry_days"])
    expect(page.locator(".alert")).to_contain_text(f"rescheduled to {new_due.isoformat()}")
    expect(page.locator(".alert")).to_contain_text(f"attempt 1 of {task['max']}")
    expect(page.locator(f'.crm-care-task[data-task-id="{task["id"]}"]')).to_have_count(0)  # gone from today
    expect(page.locator('#crm-care-tabs li[data-tab="today"] .badge')).to_have_text("0")

    # It waits in "Next 7 days", on its new date, as the second attempt, with the note kept.
    page.locator('#crm-care-tabs li[data-tab="week"] a').click()
    moved = page.locator(f'.crm-care-task[data-task-id="{task["id"]}"]')
    expect(moved).to_be_visible()
    expect(moved).to_contain_text(f"Due {new_due.isoformat()}")
    expect(moved.locator(".label-warning")).to_have_text("Attempt 2")
    expect(moved.locator(".crm-care-notes")).to_contain_text("无人接听")
    if new_due.month == task["today"].month:
        day_cell = page.locator(f'#crm-care-calendar td[data-date="{new_due.isoformat()}"]')
        expect(day_cell.locator(".crm-care-count")).to_have_text("1")

    db.session.expire_all()
    saved = db.session.get(CareTask, task["id"])
    assert (saved.status, saved.due_date, saved.attempts, saved.outcome) == ("open", new_due, 1, "not_reached")
    assert page.guard.external() == []
    assert page.console_errors == []
