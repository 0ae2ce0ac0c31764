"""Lines: opening, plan changes effective next month, suspend and resume; each leaves history."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.business_change import BusinessChange
from app.models.customer import Customer
from app.services import audit, subscriptions
from app.services.care import business_date
from app.services.errors import Invalid, NotFound
from tests.factories import make_customer, make_plan


def changes(kind: str) -> list[BusinessChange]:
    return list(db.session.execute(select(BusinessChange).where(BusinessChange.change_type == kind)
                                   .order_by(BusinessChange.id)).scalars())


@pytest.fixture
def line(actor):  # noqa: ANN001, ANN201
    clerk = actor("clerk1")
    c = make_customer(clerk)
    plan = make_plan(actor("manager"))
    return subscriptions.open_line({"customer_id": c.id, "plan_id": plan.id, "number": c.mobile}, clerk)


def test_open_line_records_business_change_and_sets_main_plan(actor, line):
    assert line.status == "active" and line.effective_date == business_date(utcnow())
    opened = changes("open")
    assert len(opened) == 1 and opened[0].subscription_id == line.id
    assert json.loads(opened[0].after)["plan"] == line.plan.code
    assert db.session.get(Customer, line.customer_id).plan_id == line.plan_id
    assert audit.verify().ok


def test_a_line_opened_after_midnight_in_shanghai_starts_that_day(actor, monkeypatch):
    # 17:30 UTC on 1 March is 01:30 on 2 March in Shanghai: the UTC (or a UTC server's) date is a day behind.
    monkeypatch.setattr("app.services.subscriptions.utcnow", lambda: dt.datetime(2026, 3, 1, 17, 30))
    clerk = actor("clerk1")
    c = make_customer(clerk)
    plan = make_plan(actor("manager"))
    line = subscriptions.open_line({"customer_id": c.id, "plan_id": plan.id, "number": c.mobile}, clerk)
    assert line.effective_date == dt.date(2026, 3, 2)
    assert changes("open")[0].effective_date == dt.date(2026, 3, 2)


def test_open_line_validates_number_plan_and_dates(actor):
    clerk = actor("clerk1")
    c = make_customer(clerk)
    plan = make_plan(actor("manager"))
    with pytest.raises(Invalid) as exc:
        subscriptions.open_line({"customer_id": c.id, "plan_id": plan.id, "number": "12345"}, clerk)
    assert "number" in exc.value.errors
    with pytest.raises(Invalid) as exc:
        subscriptions.open_line({"customer_id": c.id, "plan_id": 999999, "number": c.mobile}, clerk)
    assert "plan_id" in exc.value.errors
    with pytest.raises(Invalid) as exc:
        subscriptions.open_line({"customer_id": c.id, "plan_id": plan.id, "number": c.mobile,
                                 "effective_date": "2026-03-01", "expiry_date": "2026-02-01"}, clerk)
    assert "expiry_date" in exc.value.errors


def test_a_number_in_service_cannot_be_opened_twice(actor, line):
    clerk = actor("clerk1")
    other = make_customer(clerk)
    with pytest.raises(Invalid) as exc:
        subscriptions.open_line({"customer_id": other.id, "plan_id": line.plan_id, "number": line.number}, clerk)
    assert "number" in exc.value.errors


def test_plan_change_takes_effect_next_month(actor, line):
    new_plan = make_plan(actor("manager"))
    old_code = line.plan.code
    subscriptions.change_plan(line.id, new_plan.id, actor("clerk1"), reason="wants more data",
                              today=dt.date(2026, 1, 31))
    change = changes("plan_change")[0]
    assert change.effective_date == dt.date(2026, 2, 1)
    assert json.loads(change.before) == {"plan": old_code}
    assert json.loads(change.after) == {"plan": new_plan.code}
    assert change.reason == "wants more data"
    assert db.session.get(Customer, line.customer_id).plan_id == new_plan.id


def test_first_of_next_month_across_a_year_end():
    assert subscriptions.first_of_next_month(dt.date(2026, 12, 15)) == dt.date(2027, 1, 1)


def test_plan_change_to_the_same_plan_is_refused(actor, line):
    with pytest.raises(Invalid) as exc:
        subscriptions.change_plan(line.id, line.plan_id, actor("clerk1"))
    assert "plan_id" in exc.value.errors


def test_suspend_and_resume(actor, line):
    clerk = actor("clerk1")
    subscriptions.set_status(line.id, "suspended", clerk, reason="lost phone")
    assert line.status == "suspended"
    with pytest.raises(Invalid):
        subscriptions.set_status(line.id, "suspended", clerk)
    new_plan = make_plan(actor("manager"))
    with pytest.raises(Invalid):  # a suspended line cannot change plan
        subscriptions.change_plan(line.id, new_plan.id, clerk)
    db.session.rollback()
    subscriptions.set_status(line.id, "active", clerk)
    assert line.status == "active"
    assert [c.change_type for c in changes("suspend") + changes("resume")] == ["suspend", "resume"]
    assert changes("suspend")[0].reason == "lost phone"


def test_terminated_line_stays_terminated(actor, line):
    clerk = actor("clerk1")
    subscriptions.set_status(line.id, "terminated", clerk)
    with pytest.raises(Invalid):
        subscriptions.set_status(line.id, "active", clerk)


def test_unknown_status_is_refused(actor, line):
    with pytest.raises(Invalid) as exc:
        subscriptions.set_status(line.id, "frozen", actor("clerk1"))
    assert "status" in exc.value.errors


def test_sales_cannot_touch_another_salespersons_line(actor):
    theirs = make_customer(actor("sales2"))
    plan = make_plan(actor("manager"))
    sub = subscriptions.open_line({"customer_id": theirs.id, "plan_id": plan.id, "number": theirs.mobile},
                                  actor("clerk1"))
    with pytest.raises(NotFound):
        subscriptions.set_status(sub.id, "suspended", actor("sales1"))
    with pytest.raises(NotFound):
        subscriptions.open_line({"customer_id": theirs.id, "plan_id": plan.id, "number": "13900000999"},
                                actor("sales1"))
