"""Sales pages: lists, detail pages with their actions, the board, row rules through the UI."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.care import CareTask
from app.models.lead import Lead
from app.models.opportunity import Opportunity
from app.models.order import SalesOrder
from app.services.care import business_date
from tests.conftest import actor_for
from tests.factories import make_plan
from tests.sales.conftest import an_id_number, make_lead, make_opportunity, make_order, tr


def test_lead_pages_log_convert_and_row_rules(app, as_user):
    with app.app_context():
        lead = make_lead(source="walk_in", id_number=an_id_number())
        other = make_lead("sales2")
        lead_id, other_id = lead.id, other.id
    c = as_user("sales1")
    listing = c.get("/leads/list/").get_data(as_text=True)
    assert f"/leads/show/{lead_id}" in listing and f"/leads/show/{other_id}" not in listing
    page = c.get(f"/leads/show/{lead_id}").get_data(as_text=True)
    assert 'id="crm-lead-priority"' in page and "+30" in page
    assert c.get(f"/leads/show/{other_id}").status_code == 404
    assert c.post(f"/leads/{other_id}/log", data={"method": "phone", "content": "x"}).status_code == 404
    bad = c.post(f"/leads/{lead_id}/log", data={"method": "phone", "content": "", "next_contact_date": "2001-01-01"})
    assert bad.status_code == 422 and "has-error" in bad.get_data(as_text=True)
    tomorrow = (business_date(utcnow()) + dt.timedelta(days=2)).isoformat()
    ok = c.post(f"/leads/{lead_id}/log", data={"method": "phone", "content": "Called", "next_contact_date": tomorrow,
                                               "next_step": "send offer"})
    assert ok.status_code == 302
    assert "Called" in c.get(f"/leads/show/{lead_id}").get_data(as_text=True)
    agenda = c.get("/care/?tab=week").get_data(as_text=True)
    assert f"/leads/show/{lead_id}" in agenda and "send offer" in agenda
    resp = c.post(f"/leads/{lead_id}/convert", data={"expected_revenue": "abc"})
    assert resp.status_code == 422 and "has-error" in resp.get_data(as_text=True)
    resp = c.post(f"/leads/{lead_id}/convert", data={"expected_revenue": "600"})
    assert resp.status_code == 302 and "/opportunities/show/" in resp.headers["Location"]
    with app.app_context():
        assert db.session.get(Lead, lead_id).status == "converted"


def test_lead_add_form_names_bad_fields_and_duplicates(app, as_user):
    c = as_user("sales1")
    resp = c.post("/leads/add", data={"name": "王五", "mobile": "123", "source": "hotline"})
    assert resp.status_code == 200
    assert tr(app, "Mobile number must be 11 digits starting with 1.") in resp.get_data(as_text=True)
    resp = c.post("/leads/add", data={"name": "王五", "mobile": "13912340000", "source": "hotline"})
    assert resp.status_code == 302
    with app.app_context():
        first = db.session.execute(select(Lead)).scalar_one()
        assert first.owner_id == actor_for("sales1").id
    resp = c.post("/leads/add", data={"name": "王五", "mobile": "13912340000", "source": "hotline"})
    message = tr(app, "Duplicate of open lead %(name)s (#%(id)d).", name="王五", id=first.id)
    assert message in resp.get_data(as_text=True)


def test_opportunity_page_moves_and_playbook(app, as_user):
    with app.app_context():
        opp = make_opportunity()
        opp_id = opp.id
        theirs = make_opportunity("sales2").id
    c = as_user("sales1")
    page = c.get(f"/opportunities/show/{opp_id}").get_data(as_text=True)
    assert 'id="crm-opp-playbook"' in page and tr(app, "Call back within 3 days") in page
    assert c.get(f"/opportunities/show/{theirs}").status_code == 404
    assert c.post(f"/opportunities/{theirs}/move", data={"stage": "intent"}).status_code == 404
    c.post(f"/opportunities/{opp_id}/move", data={"stage": "won"})  # illegal: refused with a message
    with app.app_context():
        assert db.session.get(Opportunity, opp_id).stage == "potential"
    c.post(f"/opportunities/{opp_id}/move", data={"stage": "intent"})
    c.post(f"/opportunities/{opp_id}/move", data={"stage": "lost"})  # no reason: refused
    with app.app_context():
        assert db.session.get(Opportunity, opp_id).stage == "intent"
    board = c.get("/sales/board/").get_data(as_text=True)
    assert f'data-opportunity-id="{opp_id}"' in board and f'data-opportunity-id="{theirs}"' not in board
    assert re.search(r'data-stage="intent">\s*<div class="panel[^>]*>\s*<div class="panel-heading">\s*'
                     r'<strong>[^<]*</strong> <span class="badge crm-board-count">1</span>', board)
    resp = c.post(f"/opportunities/{opp_id}/move", data={"stage": "negotiation", "next": "board"})
    assert resp.headers["Location"].endswith("/sales/board/")
    with app.app_context():
        assert db.session.get(Opportunity, opp_id).stage == "negotiation"


def test_order_pages_manager_approves(app, as_user):
    with app.app_context():
        opp = make_opportunity(stage="won")
        plan = make_plan(actor_for("manager"))
        opp_id, plan_id = opp.id, plan.id
    c = as_user("sales1")
    assert "crm-order-form" in c.get(f"/orders/new/{opp_id}").get_data(as_text=True)
    bad = c.post(f"/orders/new/{opp_id}", data={"kind_0": "plan", "plan_id_0": "", "unit_price_0": "x"})
    assert bad.status_code == 422
    resp = c.post(f"/orders/new/{opp_id}", data={"kind_0": "plan", "plan_id_0": str(plan_id),
                                                  "number_0": "13700001111", "unit_price_0": "50.00"})
    assert resp.status_code == 302
    with app.app_context():
        order_id = db.session.execute(select(SalesOrder.id)).scalar_one()
    c.post(f"/orders/{order_id}/move", data={"state": "submitted"})
    page = c.get(f"/orders/show/{order_id}").get_data(as_text=True)
    assert 'id="crm-order-waiting"' in page and 'data-state="approved"' not in page
    c.post(f"/orders/{order_id}/move", data={"state": "approved"})  # a salesperson cannot
    with app.app_context():
        assert db.session.get(SalesOrder, order_id).state == "submitted"
    m = as_user("manager")
    assert 'data-state="approved"' in m.get(f"/orders/show/{order_id}").get_data(as_text=True)
    m.post(f"/orders/{order_id}/move", data={"state": "approved", "note": "ok"})
    with app.app_context():
        assert db.session.get(SalesOrder, order_id).state == "approved"
    assert as_user("sales2").get(f"/orders/show/{order_id}").status_code == 404


def test_order_list_row_rules(app, as_user):
    with app.app_context():
        mine, theirs = make_order("sales1").id, make_order("sales2", number="13700002222").id
    listing = as_user("sales1").get("/orders/list/").get_data(as_text=True)
    assert f"/orders/show/{mine}" in listing and f"/orders/show/{theirs}" not in listing
    listing = as_user("manager").get("/orders/list/").get_data(as_text=True)
    assert f"/orders/show/{mine}" in listing and f"/orders/show/{theirs}" in listing


def test_follow_up_tasks_show_in_the_team_page(app, as_user):
    with app.app_context():
        from app.services import contact_logs

        lead = make_lead()
        contact_logs.create({"lead_id": lead.id, "method": "sms", "content": "x",
                             "next_contact_date": business_date(utcnow()).isoformat()}, actor_for("sales1"))
        assert db.session.execute(select(CareTask)).scalar_one().customer_id is None
    assert as_user("manager").get("/care/team/").status_code == 200


def test_other_roles_have_no_sales_pages(app, as_user):
    for user in ("agent1", "clerk1"):
        c = as_user(user)
        for url in ("/leads/list/", "/opportunities/list/", "/orders/list/", "/sales/board/", "/sales/dashboard/"):
            assert c.get(url).status_code in (302, 403), (user, url)
    assert as_user("sales1").get("/sales/dashboard/").status_code in (302, 403)
    assert as_user("manager").get("/sales/dashboard/").status_code == 200


def test_customer360_shows_opportunities_and_contacts(app, as_user):
    with app.app_context():
        from app.services import contact_logs

        opp = make_opportunity()
        contact_logs.create({"opportunity_id": opp.id, "method": "phone", "content": "discussed fusion plan",
                             "next_contact_date": business_date(utcnow()).isoformat()}, actor_for("sales1"))
        customer_id, opp_id = opp.customer_id, opp.id
    page = as_user("sales1").get(f"/customer360/{customer_id}").get_data(as_text=True)
    assert f'data-opportunity-id="{opp_id}"' in page and "discussed fusion plan" in page
    assert tr(app, "Sales follow-up") in page  # the follow-up task in the care panel
    form = as_user("sales1").get(f"/opportunities/add?customer_id={customer_id}").get_data(as_text=True)
    assert f'value="{customer_id}"' in form
    # A manager sees every salesperson's opportunities on the 360 page.
    page = as_user("manager").get(f"/customer360/{customer_id}").get_data(as_text=True)
    assert f'data-opportunity-id="{opp_id}"' in page
