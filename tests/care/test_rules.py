"""Each shipped rule fires on the right day, for the right customers, and not on other days."""

from __future__ import annotations

import datetime as dt

from app.services.identity import make_id_number
from tests.care.conftest import bill, customer, line, only, rule, run_days, tasks

D = dt.date


def test_shipped_rules_exist_once(ctx):
    from app.services.care_rules import ensure_shipped_rules

    codes = {"new_customer_revisit", "revisit_high_value", "revisit_ordinary", "plan_expiry_reminder",
             "birthday_greeting", "arrears_reminder"}
    assert ensure_shipped_rules() == 0  # `crm init` ran already: nothing new
    for code in codes:
        r = rule(code)
        assert r.enabled and r.action == "task"
    assert rule("revisit_high_value").target_segment == "high_value"
    assert rule("arrears_reminder").name == "Arrears reminder"  # stored as the English msgid


def test_new_customer_revisit_on_day_7_and_30_after_opening(ctx, actor):
    only("new_customer_revisit")
    with_line = customer("sales1", created=D(2026, 1, 1))
    line(with_line, effective=D(2026, 3, 1))  # the first line's date wins over created_at
    no_line = customer("sales2", created=D(2026, 3, 2))
    created = run_days(D(2026, 3, 1), D(2026, 4, 5))
    assert created == {D(2026, 3, 8): 1, D(2026, 3, 9): 1, D(2026, 3, 31): 1, D(2026, 4, 1): 1}
    mine = tasks(customer_id=with_line.id)
    assert [(t.occurrence_key, t.due_date) for t in mine] == [("d7", D(2026, 3, 8)), ("d30", D(2026, 3, 31))]
    assert {t.assignee_id for t in mine} == {actor("sales1").id}  # Sales rule: the customer's owner
    assert [t.due_date for t in tasks(customer_id=no_line.id)] == [D(2026, 3, 9), D(2026, 4, 1)]
    assert {t.assignee_id for t in tasks(customer_id=no_line.id)} == {actor("sales2").id}


def test_periodic_revisit_every_90_days_for_high_value_and_180_for_ordinary(ctx):
    only("revisit_high_value", "revisit_ordinary")
    high = customer(created=D(2025, 1, 1), segment="high_value")
    ordinary = customer(created=D(2025, 1, 1), segment="ordinary")
    low = customer(created=D(2025, 1, 1), segment="low_value")
    too_new = customer(created=D(2026, 3, 20), segment="high_value")  # tenure < 30 days at first due
    run_days(D(2026, 3, 1), D(2026, 9, 30))
    due = [t.due_date for t in tasks(customer_id=high.id)]
    assert due[0] < D(2026, 3, 1) + dt.timedelta(days=90) and len(due) in (2, 3)
    assert all(b - a == dt.timedelta(days=90) for a, b in zip(due, due[1:], strict=False))
    assert all(d.toordinal() % 90 == high.id % 90 for d in due)
    due = [t.due_date for t in tasks(customer_id=ordinary.id)]
    assert len(due) in (1, 2) and all(d.toordinal() % 180 == ordinary.id % 180 for d in due)
    assert tasks(customer_id=low.id) == []
    assert all(t.due_date >= D(2026, 4, 19) for t in tasks(customer_id=too_new.id))


def test_plan_expiry_reminder_30_and_7_days_before(ctx):
    only("plan_expiry_reminder")
    c = customer()
    line(c, effective=D(2025, 7, 1), expiry=D(2026, 6, 30))
    ended = customer()
    line(ended, effective=D(2025, 7, 1), expiry=D(2026, 6, 30), status="terminated")
    created = run_days(D(2026, 5, 25), D(2026, 7, 2))
    assert created == {D(2026, 5, 31): 1, D(2026, 6, 23): 1}
    found = tasks(customer_id=c.id)
    assert [t.occurrence_key for t in found] == ["exp:2026-06-30:30", "exp:2026-06-30:7"]
    assert [t.priority for t in found] == ["normal", "high"]
    from flask_babel import force_locale

    from app.services import care

    with force_locale("en"):
        assert "2026-06-30" in care.reason(found[0]) and "Renew for 12 months" in care.reason(found[0])


def test_birthday_greeting_only_with_marketing_consent(ctx, actor):
    only("birthday_greeting")
    yes = customer(id_number=make_id_number("110105", D(1990, 7, 15), 11, "M"), consent_marketing=True)
    no = customer(id_number=make_id_number("110105", D(1990, 7, 15), 13, "M"), consent_marketing=False)
    assert yes.birth_date == D(1990, 7, 15)  # derived from the resident ID
    created = run_days(D(2026, 7, 10), D(2026, 7, 20))
    assert created == {D(2026, 7, 15): 1}
    [t] = tasks(customer_id=yes.id)
    assert (t.due_date, t.occurrence_key) == (D(2026, 7, 15), "2026")
    from app.services.care import role_pool

    # Agent rule: round-robin over the active Agents (other tests may have added some besides agent1/agent2).
    assert actor("agent1").id in role_pool("Agent") and t.assignee_id in role_pool("Agent")
    assert tasks(customer_id=no.id) == []


def test_birthday_on_29_february_is_greeted_on_28_february_in_common_years(ctx):
    only("birthday_greeting")
    leap = customer(id_number=make_id_number("110105", D(1992, 2, 29), 15, "F"), consent_marketing=True)
    assert run_days(D(2027, 2, 27), D(2027, 3, 1)) == {D(2027, 2, 28): 1}
    assert tasks(customer_id=leap.id)[0].due_date == D(2027, 2, 28)


def test_arrears_reminder_at_15_days_and_call_at_45(ctx):
    only("arrears_reminder")
    late = customer()
    bill(late, due=D(2026, 1, 10), total="80.00")
    bill(late, due=D(2026, 2, 10), total="80.00")  # a later bill does not start a new episode
    paid = customer()
    bill(paid, due=D(2026, 1, 10), total="80.00", paid="80.00")
    zero = customer()
    bill(zero, due=D(2026, 1, 10), total="80.00", paid="80.00", status="partial")  # nothing owed
    created = run_days(D(2026, 1, 20), D(2026, 2, 28))
    assert created == {D(2026, 1, 25): 1, D(2026, 2, 24): 1}
    found = tasks(customer_id=late.id)
    assert [(t.occurrence_key, t.priority) for t in found] == [("a:2026-01-10", "normal"), ("e:2026-01-10", "high")]
    from flask_babel import force_locale

    from app.services import care

    with force_locale("en"):
        assert "call the customer" in care.reason(found[1])
    assert tasks(customer_id=paid.id) == [] and tasks(customer_id=zero.id) == []


def test_old_arrears_on_first_run_get_only_the_escalation(ctx):
    only("arrears_reminder")
    c = customer()
    bill(c, due=D(2025, 10, 1))
    run_days(D(2026, 1, 5), D(2026, 1, 5))
    assert [t.occurrence_key for t in tasks(customer_id=c.id)] == ["e:2025-10-01"]


def test_targeting_by_city_plan_type_and_lead_time(ctx):
    from app.services import care_rules
    from tests.conftest import actor_for

    only()
    r = care_rules.create({"code": "bj_fusion", "name": "Beijing fusion check", "kind": "plan_expiry",
                           "params": '{"offsets": [10]}', "target_city": "北京", "target_plan_type": "mobile",
                           "lead_days": 3, "owner_role": "Clerk"}, actor_for("manager"))
    bj = customer(city="北京")
    line(bj, effective=D(2025, 1, 1), expiry=D(2026, 5, 20))
    sh = customer(city="上海")
    line(sh, effective=D(2025, 1, 1), expiry=D(2026, 5, 20))
    created = run_days(D(2026, 5, 1), D(2026, 5, 12))
    assert created == {D(2026, 5, 7): 1}  # due 05-10 (10 days before expiry), shown 3 days ahead
    [t] = tasks(rule_id=r.id)
    assert (t.customer_id, t.due_date) == (bj.id, D(2026, 5, 10))
    assert t.assignee_id == actor_for("clerk1").id
