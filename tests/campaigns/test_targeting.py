"""Campaign targeting: the preview count equals a direct SQL count, consent and the monthly
frequency cap are enforced, and bad filters are refused naming the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models.analytics import ChurnModelVersion, ChurnScore
from app.models.bill import Bill
from app.models.campaign import CampaignContact
from app.services import campaigns
from app.services.campaign_targeting import clean_filters
from app.services.errors import Invalid
from tests.campaigns.conftest import TODAY, customer, make_campaign
from tests.conftest import actor_for
from tests.factories import make_plan


def _population() -> None:
    """A varied population: segments, cities, statuses, consent, ages, tenure, plans, arrears, churn."""
    mobile_plan = make_plan(actor_for("manager"), plan_type="mobile")
    broadband = make_plan(actor_for("manager"), plan_type="broadband")
    version = ChurnModelVersion(version=1, algorithm="logistic", metrics="{}", samples=1, positives=1,
                                artifact=b"x", active=True)
    db.session.add(version)
    db.session.flush()
    segments = ("high_value", "potential", "ordinary", "low_value")
    for i in range(24):
        c = customer(consent=i % 5 != 0, city=("北京", "上海", "广州")[i % 3], segment=segments[i % 4],
                     email=f"c{i}@example.com" if i % 2 else None)
        c.status = ("active", "active", "suspended", "closed")[i % 4] if i % 7 else "active"
        c.birth_date = dt.date(1960 + 2 * i, 3, 10)  # ages 66 … 20 on TODAY
        c.created_at = dt.datetime(2026, 3, 10, 2, 0) - dt.timedelta(days=20 * i)
        c.plan_id = (mobile_plan.id, broadband.id, None)[i % 3]
        if i % 4 == 1:
            db.session.add(Bill(customer_id=c.id, month=dt.date(2026, 1, 1), base_fee=Decimal("50"),
                                total=Decimal("50"), paid_amount=Decimal("0"), due_date=dt.date(2026, 2, 15),
                                status="unpaid"))
        db.session.add(ChurnScore(customer_id=c.id, model_version_id=version.id, score=(i % 10) / 10, reasons="[]"))
    db.session.commit()


SQL_BASE = """
SELECT count(*) FROM customer c
WHERE c.consent_marketing = :yes AND c.status IN ('active', 'suspended') {extra}
AND c.id NOT IN (SELECT customer_id FROM campaign_contact
                 WHERE contacted_at >= :month_start AND contacted_at < :month_end
                 GROUP BY customer_id HAVING count(*) >= 2)
"""

CASES = [
    ({}, ""),
    ({"segments": ["high_value", "potential"]}, "AND c.segment IN ('high_value', 'potential')"),
    ({"cities": ["北京"], "statuses": ["active"]}, "AND c.city = '北京' AND c.status = 'active'"),
    ({"plan_type": "broadband"},
     "AND c.plan_id IN (SELECT id FROM plan WHERE plan_type = 'broadband')"),
    # Tenure 100-300 days on 2026-03-10 (created at 10:00 local = 02:00 UTC on the day).
    ({"tenure_min_days": 100, "tenure_max_days": 300},
     "AND c.created_at < '2025-12-01 16:00:00' AND c.created_at >= '2025-05-13 16:00:00'"),
    # Age 30-50 on 2026-03-10: born 1975-03-11 … 1996-03-10.
    ({"age_min": 30, "age_max": 50}, "AND c.birth_date <= '1996-03-10' AND c.birth_date > '1975-03-10'"),
    ({"arrears": True},
     "AND EXISTS (SELECT 1 FROM bill b WHERE b.customer_id = c.id AND b.status != 'paid' "
     "AND b.due_date < '2026-03-10')"),
    ({"arrears": False, "segments": ["ordinary"]},
     "AND c.segment = 'ordinary' AND NOT EXISTS (SELECT 1 FROM bill b WHERE b.customer_id = c.id "
     "AND b.status != 'paid' AND b.due_date < '2026-03-10')"),
    ({"churn_band": "high"}, "AND c.id IN (SELECT customer_id FROM churn_score WHERE score >= :high)"),
]


@pytest.mark.parametrize(("filters", "extra"), CASES)
def test_preview_count_equals_a_direct_sql_count(ctx, filters, extra):
    _population()
    from app.services.churn import high_risk_threshold

    expected = db.session.execute(text(SQL_BASE.format(extra=extra)), {
        "yes": True, "month_start": dt.datetime(2026, 2, 28, 16), "month_end": dt.datetime(2026, 3, 31, 16),
        "high": high_risk_threshold()}).scalar()
    result = campaigns.preview(filters, "call", TODAY)
    assert result.count == expected
    assert len(result.sample) == min(expected, 10)


def test_customers_without_marketing_consent_are_never_targeted(ctx):
    yes = customer(consent=True)
    customer(consent=False)
    result = campaigns.preview({}, "sms", TODAY)
    assert result.count == 1 and [r["id"] for r in result.sample] == [yes.id]
    assert result.sample[0]["mobile"] == yes.mobile[:3] + "****" + yes.mobile[-4:]  # masked


def test_email_campaigns_need_an_address(ctx):
    customer(email="a@example.com")
    customer(email=None)
    assert campaigns.preview({}, "email", TODAY).count == 1
    assert campaigns.preview({}, "call", TODAY).count == 2


def _contact(campaign_id: int, customer_id: int, at: dt.datetime) -> None:
    db.session.add(CampaignContact(campaign_id=campaign_id, customer_id=customer_id, contacted_at=at,
                                   contact_day=at.date(), window_ends_at=at + dt.timedelta(days=30)))
    db.session.commit()


def test_frequency_cap_two_campaigns_a_calendar_month(ctx, app):
    busy, once, last_month, fresh = (customer() for _ in range(4))
    first, second, third, fourth = (make_campaign(name=n) for n in "ABCD")
    for c in (first, second):
        _contact(c.id, busy.id, dt.datetime(2026, 3, 2, 3))
    _contact(first.id, once.id, dt.datetime(2026, 3, 2, 3))
    # 2026-02-28 17:00 UTC is 1 March 01:00 in Shanghai: this month. 15:00 UTC is still February.
    _contact(first.id, last_month.id, dt.datetime(2026, 2, 28, 15))
    _contact(second.id, last_month.id, dt.datetime(2026, 2, 20, 3))
    targeted = {r["id"] for r in campaigns.preview({}, "call", TODAY, third.id).sample}
    assert targeted == {once.id, last_month.id, fresh.id}
    # The campaign's own contacts do not count against it (a resumed launch keeps its target).
    assert busy.id in {r["id"] for r in campaigns.preview({}, "call", TODAY, first.id).sample}
    _contact(third.id, last_month.id, dt.datetime(2026, 2, 28, 17))
    _contact(fourth.id, last_month.id, dt.datetime(2026, 3, 5, 3))
    assert last_month.id not in {r["id"] for r in campaigns.preview({}, "call", TODAY).sample}
    assert last_month.id in {r["id"] for r in campaigns.preview({}, "call", TODAY, fourth.id).sample}
    app.config["CRM_CAMPAIGN_MONTHLY_CAP"] = 0  # 0: no cap
    try:
        assert campaigns.preview({}, "call", TODAY).count == 4
    finally:
        app.config.pop("CRM_CAMPAIGN_MONTHLY_CAP")


@pytest.mark.parametrize(("filters", "field"), [
    ({"segments": ["vip"]}, "filters.segments"),
    ({"colour": "red"}, "filters.colour"),
    ({"age_min": "old"}, "filters.age_min"),
    ({"age_min": 50, "age_max": 20}, "filters.age_max"),
    ({"churn_band": "extreme"}, "filters.churn_band"),
    ({"statuses": ["closed"]}, "filters.statuses"),
    ("[1, 2]", "filters"),
])
def test_bad_filters_name_the_field(ctx, filters, field):
    with pytest.raises(Invalid) as exc:
        clean_filters(filters)
    assert field in exc.value.errors


def test_campaign_rules_when_defining(ctx):
    with pytest.raises(Invalid) as exc:
        campaigns.create({"name": "", "start_date": "2026-03-10", "end_date": "2026-03-01", "channel": "fax",
                          "conversion_days": 0}, actor_for("manager"))
    assert {"name", "end_date", "channel", "conversion_days"} <= set(exc.value.errors)
    with pytest.raises(Invalid) as exc:
        make_campaign(channel="sms", template_code=None)
    assert "template_code" in exc.value.errors
    from app.services.errors import Forbidden

    with pytest.raises(Forbidden):
        campaigns.create({"name": "x", "start_date": "2026-03-01", "end_date": "2026-03-02"}, actor_for("sales1"))
