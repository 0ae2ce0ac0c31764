"""Service-desk journey in a real browser: agent1 takes a phone complaint, transfers it to the technical
department with a hand-over note, agent2 sees everything already asked and resolves it; the customer's
acknowledgement, transfer and resolution messages are in the outbox and the survey link records a score.

Browser fixtures from tests/browser/conftest.py (live server on 127.0.0.1, Debian Chromium).
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models.ticket import Ticket, TicketTransfer
from tests.browser.conftest import sign_in

# Assignment must pick agent1 and agent2, whatever agents other tests left behind.
from tests.tickets.conftest import _only_demo_agents, customer_with_line, dept, user_id  # noqa: F401

pytestmark = pytest.mark.browser

MOBILE = "13566667777"


def _login(page, live_server, username: str) -> None:  # noqa: ANN001
    page.goto("/logout/")
    sign_in(page, live_server, username)


def test_phone_complaint_transferred_and_resolved(page, live_server, ctx):  # noqa: ANN001
    customer, line = customer_with_line(mobile=MOBILE, email="kehu@example.com")

    # agent1 answers the phone: looks the caller up by typing the mobile number, opens a complaint.
    _login(page, live_server, "agent1")
    page.goto("/tickets/new")
    page.fill("#crm-customer-q", MOBILE[:7])
    hit = page.locator(f'.crm-customer-hit[data-customer-id="{customer.id}"]')
    expect(hit).to_contain_text("135****7777")
    hit.click()
    expect(page.locator("#crm-customer-id")).to_have_value(str(customer.id))
    page.select_option("#crm-subscription", str(line.id))
    page.select_option("#crm-channel", "phone")
    page.select_option("#crm-ticket_type", "complaint")
    page.fill("#crm-subject", "晚上网速很慢")
    page.fill("#crm-description", "客户反映每天晚上8点后手机上网很慢，已持续一周")
    page.check("#crm-take")
    page.click("#crm-ticket-save")
    expect(page.locator("#crm-ticket-status")).to_have_attribute("data-status", "in_progress")
    ticket = db.session.execute(select(Ticket).where(Ticket.customer_id == customer.id)).scalar_one()
    assert (ticket.channel, ticket.ticket_type, ticket.assignee_id) == ("phone", "complaint", user_id("agent1"))

    # agent1 records what was asked and checked, then hands it over to the technical department.
    page.fill("#crm-act-note textarea[name=body]", "已核对账单无异常；客户住在望京，晚间信号满格但网速慢")
    page.click("#crm-act-note button[value=''], #crm-act-note button:not([name])")
    expect(page.locator("#crm-ticket-timeline")).to_contain_text("已核对账单无异常")
    page.select_option("#crm-transfer-dept", str(dept("technical")))
    page.click("#crm-act-transfer button[type=submit]")  # note empty: the browser refuses (required)
    assert page.url.endswith(f"/tickets/{ticket.id}")
    page.fill("#crm-transfer-note", "请技术部排查望京基站晚高峰负载，客户不希望再次被询问基本情况")
    page.click("#crm-act-transfer button[type=submit]")
    page.wait_for_url(live_server.url + "/tickets/queue")  # no longer in agent1's rows
    expect(page.locator(".alert-success")).to_be_visible()
    assert page.goto(f"/tickets/{ticket.id}").status == 404

    # agent2 finds it in the queue with the whole history, customer summary and hand-over note.
    _login(page, live_server, "agent2")
    page.goto("/tickets/queue")
    page.click(f'tr[data-ticket-id="{ticket.id}"] a.crm-ticket-link')
    expect(page.locator("#crm-ticket-department")).to_contain_text("技术部")
    expect(page.locator("#crm-ticket-timeline")).to_contain_text("已核对账单无异常")
    expect(page.locator("#crm-ticket-description")).to_contain_text("晚上8点后")
    expect(page.locator("#crm-ticket-transfers")).to_contain_text("请技术部排查望京基站")
    expect(page.locator("#crm-ticket-customer")).to_contain_text(customer.name)
    expect(page.locator("#crm-ticket-customer")).to_contain_text("135****7777")
    page.click("#crm-act-take button")
    expect(page.locator("#crm-ticket-status")).to_have_attribute("data-status", "in_progress")
    # a complaint needs its process and result
    page.fill("#crm-resolution", "基站扩容")
    page.click("#crm-act-resolve button[type=submit]")
    expect(page.locator(".alert-danger")).to_be_visible()
    expect(page.locator("#crm-ticket-status")).to_have_attribute("data-status", "in_progress")
    page.fill("#crm-resolution", "望京基站晚高峰扩容")
    page.fill("#crm-complaint-process", "技术部排查基站负载，确认晚高峰拥塞")
    page.fill("#crm-complaint-result", "扩容后实测网速恢复到50Mbps，客户认可")
    page.click("#crm-act-resolve button[type=submit]")
    expect(page.locator("#crm-ticket-status")).to_have_attribute("data-status", "resolved")
    expect(page.locator("#crm-ticket-outcome")).to_contain_text("客户认可")

    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert (ticket.status, ticket.department_id, ticket.transfer_count) == ("resolved", dept("technical"), 1)
    assert db.session.execute(select(TicketTransfer).where(TicketTransfer.ticket_id == ticket.id)).scalar_one()

    # The customer was told at each step, and the survey link from the resolution message records a score.
    from app.models.message import OutboxMessage

    rows = db.session.execute(select(OutboxMessage).where(OutboxMessage.source == "ticket",
                                                          OutboxMessage.source_id == ticket.id)).scalars().all()
    assert {r.template_code for r in rows} == {"ticket_ack", "ticket_transfer", "ticket_resolved"}
    survey_url = json.loads(next(r for r in rows if r.template_code == "ticket_resolved").context)["survey_url"]
    path = survey_url[survey_url.index("/survey/"):]
    page.goto("/logout/")
    page.goto(path)
    page.check("#crm-survey-form input[name=score][value='5']")
    page.fill("#crm-survey-comment", "技术部处理得很快")
    page.click("#crm-survey-form button[type=submit]")
    expect(page.locator("#crm-survey-form")).to_have_count(0)
    from app.models.survey import Survey

    db.session.expire_all()
    survey = db.session.execute(select(Survey).where(Survey.subject_type == "ticket",
                                                     Survey.subject_id == ticket.id)).scalar_one()
    assert survey.score == 5 and survey.answered_at is not None
    assert page.guard.external() == []
    assert page.console_errors == []
