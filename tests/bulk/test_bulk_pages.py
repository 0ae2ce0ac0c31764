"""Bulk actions through the pages: list link, count preview, confirmation, progress, permissions."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models.bulk_job import BulkJob
from app.models.customer import Customer
from tests.bulk.conftest import city_arg, make_customers, user_id


def test_list_offers_bulk_on_its_current_filter(app, as_user):
    with app.app_context():
        make_customers(3, "杭州")
        arg = city_arg("杭州")
    c = as_user("manager")
    page = c.get(f"/customers/list/?{arg}&psize_CustomerModelView=10").get_data(as_text=True)
    link = re.search(r'id="crm-bulk-link" href="([^"]+)"', page)
    assert link and link.group(1).startswith("/customers/bulk/?") and "_city=" in link.group(1)


def test_preview_confirm_and_run_over_more_than_a_page(app, as_user):
    with app.app_context():
        hz = make_customers(30, "杭州")
        make_customers(4, "北京")
        arg = city_arg("杭州")
    c = as_user("clerk1")
    # The list shows 10 per page; the bulk page counts the whole filtered set.
    listing = c.get(f"/customers/list/?{arg}&psize_CustomerModelView=10").get_data(as_text=True)
    assert listing.count("/customers/show/") <= 10
    preview = c.get(f"/customers/bulk/?{arg}")
    assert preview.status_code == 200
    assert 'data-count="30"' in preview.get_data(as_text=True)
    confirm = c.post(f"/customers/bulk/?{arg}", data={"action": "status", "status": "suspended"})
    body = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and 'id="crm-bulk-confirm"' in body
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(BulkJob)).scalar() == 0  # nothing yet
    done = c.post(f"/customers/bulk/?{arg}", data={"action": "status", "status": "suspended", "confirm": "1"})
    assert done.status_code == 302 and "/customers/bulk/job/" in done.headers["Location"]
    job_page = c.get(done.headers["Location"]).get_data(as_text=True)
    assert 'id="crm-bulk-done">30<' in job_page
    status = c.get(done.headers["Location"].rstrip("/") + "/status").get_json()
    assert status["finished"] and status["done"] == 30 and status["total"] == 30
    with app.app_context():
        changed = db.session.execute(select(func.count()).where(Customer.status == "suspended")).scalar()
        assert changed == 30
        assert set(db.session.execute(select(Customer.status).where(Customer.id.in_(hz))).scalars()) == {"suspended"}


def test_reassignment_is_refused_to_sales(app, as_user):
    with app.app_context():
        make_customers(3, "杭州")
        arg = city_arg("杭州")
        sales2 = user_id("sales2")
    c = as_user("sales1")
    resp = c.post(f"/customers/bulk/?{arg}", data={"action": "reassign", "owner_id": sales2})
    assert resp.status_code == 403
    resp = c.post(f"/customers/bulk/?{arg}", data={"action": "reassign", "owner_id": sales2, "confirm": "1"})
    assert resp.status_code == 403
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(BulkJob)).scalar() == 0
        owners = set(db.session.execute(select(Customer.owner_id)).scalars())
        assert owners == {user_id("sales1")}


def test_bad_input_is_a_form_message_and_agents_have_no_bulk(app, as_user):
    with app.app_context():
        make_customers(2, "杭州")
        arg = city_arg("杭州")
    c = as_user("manager")
    bad = c.post(f"/customers/bulk/?{arg}", data={"action": "follow_up", "title": "", "due_date": "x"})
    assert bad.status_code == 422 and "has-error" in bad.get_data(as_text=True)
    agent = as_user("agent1")
    assert agent.get(f"/customers/bulk/?{arg}").status_code == 403
    assert 'id="crm-bulk-link"' not in agent.get("/customers/list/").get_data(as_text=True)


def test_another_user_cannot_follow_my_job(app, as_user):
    with app.app_context():
        make_customers(2, "杭州")
        arg = city_arg("杭州")
    c = as_user("sales1")
    done = c.post(f"/customers/bulk/?{arg}", data={"action": "segment", "segment": "potential", "confirm": "1"})
    url = done.headers["Location"]
    other = as_user("sales2")
    assert other.get(url).status_code == 404


def test_leads_list_offers_bulk_and_lists_recent_jobs(app, as_user):
    from tests.sales.conftest import make_lead

    with app.app_context():
        for _ in range(3):
            make_lead("sales1")
    c = as_user("sales1")
    assert 'id="crm-bulk-link"' in c.get("/leads/list/").get_data(as_text=True)
    done = c.post("/leads/bulk/", data={"action": "status", "lead_status": "contacted", "confirm": "1"})
    assert done.status_code == 302
    assert 'id="crm-bulk-done">3<' in c.get(done.headers["Location"]).get_data(as_text=True)
    assert 'id="crm-bulk-recent"' in c.get("/leads/bulk/").get_data(as_text=True)
