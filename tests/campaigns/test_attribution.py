"""Attribution: responses (call outcome) and conversions (order, plan change, new line) within N days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models.business_change import BusinessChange
from app.models.campaign import CampaignContact
from app.models.care import CareTask
from app.models.order import SalesOrder
from app.models.subscription import Subscription
from app.services import campaign_results, campaigns, care, opportunities
from tests.campaigns.conftest import NOW, TODAY, customer, make_campaign
from tests.conftest import actor_for
from tests.factories import make_plan


def _launched(n: int, **overrides):  # noqa: ANN202
    people = [customer() for _ in range(n)]
    c = make_campaign(conversion_days=14, **overrides)
    campaigns.launch(c.id, actor_for("manager"), today=TODAY)
    campaigns.process_launches(NOW)
    return c, people


def _order(customer_id: int, at: dt.datetime, state: str = "submitted") -> None:
    opp = opportunities.create({"customer_id": customer_id, "name": "upsell", "expected_revenue": "100"},
                               actor_for("sales1"))
    db.session.add(SalesOrder(opportunity_id=opp.id, customer_id=customer_id, owner_id=opp.owner_id, state=state,
                              total=Decimal("99.00"), list_total=Decimal("99.00"), created_at=at, updated_at=at))
    db.session.commit()


def _contact(campaign_id: int, customer_id: int) -> CampaignContact:
    db.session.expire_all()
    return db.session.execute(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id,
                                                            CampaignContact.customer_id == customer_id)).scalar_one()


def test_conversions_count_only_within_the_window(ctx):
    c, (in_window, too_late, before, draft_only, plan_change, new_line, nothing) = _launched(7)
    _order(in_window.id, NOW + dt.timedelta(days=3))
    _order(too_late.id, NOW + dt.timedelta(days=15))  # window is 14 days
    _order(before.id, NOW - dt.timedelta(days=1))  # before the contact: not caused by it
    _order(draft_only.id, NOW + dt.timedelta(days=1), state="draft")  # a draft is no sale
    db.session.add(BusinessChange(customer_id=plan_change.id, change_type="plan_change",
                                  created_at=NOW + dt.timedelta(days=13, hours=23)))
    plan = make_plan(actor_for("manager"))
    db.session.add(Subscription(customer_id=new_line.id, plan_id=plan.id, number="13900000009",
                                effective_date=TODAY + dt.timedelta(days=2), status="active",
                                created_at=NOW + dt.timedelta(days=2), updated_at=NOW + dt.timedelta(days=2)))
    db.session.commit()
    result = campaign_results.attribute(NOW + dt.timedelta(days=20))
    assert result["converted"] == 3
    kinds = {p.id: _contact(c.id, p.id).conversion_kind for p in
             (in_window, too_late, before, draft_only, plan_change, new_line, nothing)}
    assert kinds == {in_window.id: "order", too_late.id: None, before.id: None, draft_only.id: None,
                     plan_change.id: "plan_change", new_line.id: "subscription", nothing.id: None}
    assert _contact(c.id, in_window.id).converted_at == NOW + dt.timedelta(days=3)
    # Running it again changes nothing.
    assert campaign_results.attribute(NOW + dt.timedelta(days=21))["converted"] == 0
    rep = campaign_results.report(c.id)
    assert (rep.contacted, rep.converted, rep.conversion_rate) == (7, 3, round(300 / 7, 1))
    assert rep.by_kind == {"order": 1, "plan_change": 1, "subscription": 1}


def test_the_earliest_conversion_wins(ctx):
    c, (p,) = _launched(1)
    _order(p.id, NOW + dt.timedelta(days=5))
    db.session.add(BusinessChange(customer_id=p.id, change_type="plan_change", created_at=NOW + dt.timedelta(days=2)))
    db.session.commit()
    campaign_results.attribute(NOW + dt.timedelta(days=6))
    row = _contact(c.id, p.id)
    assert (row.conversion_kind, row.converted_at) == ("plan_change", NOW + dt.timedelta(days=2))


def test_responses_are_call_outcomes_reached_or_interested(ctx):
    c, (reached, wants, refused, not_reached) = _launched(4)
    tasks = {t.customer_id: t for t in db.session.execute(select(CareTask)).scalars()}
    care.complete(tasks[reached.id].id, "reached", "likes it", actor_for("sales1"), today=TODAY)
    care.complete(tasks[wants.id].id, "wants_offer", "", actor_for("sales1"), today=TODAY)
    care.complete(tasks[refused.id].id, "refused", "", actor_for("sales1"), today=TODAY)
    care.complete(tasks[not_reached.id].id, "not_reached", "", actor_for("sales1"), today=TODAY)
    assert campaign_results.attribute(NOW + dt.timedelta(days=1))["responded"] == 2
    rep = campaign_results.report(c.id)
    assert (rep.contacted, rep.responded, rep.response_rate) == (4, 2, 50.0)
    assert [(d.day, d.contacted, d.responded) for d in rep.by_day] == [(TODAY, 4, 2)]


def test_a_campaign_is_done_after_its_period(ctx):
    c, _people = _launched(1)
    campaign_results.attribute(dt.datetime(2026, 3, 31, 2))
    assert campaigns.get(c.id).status == "running"
    campaign_results.attribute(dt.datetime(2026, 4, 1, 2))
    db.session.expire_all()
    assert campaigns.get(c.id).status == "done"


def test_report_export_rows(ctx):
    c, _people = _launched(2)
    rows = list(campaign_results.report_rows(campaign_results.report(c.id)))
    assert rows[0][:4] == [TODAY.isoformat(), 2, 0, 0] and rows[-1][1] == 2
