"""Working on tasks: outcomes, rescheduling when not reached, reassignment, team completion rates."""

from __future__ import annotations

import datetime as dt

import pytest

from app.extensions import db
from app.services import care, care_rules
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from tests.care.conftest import add_task, customer, rule

D = dt.date
TODAY = D(2026, 3, 10)


def test_not_reached_reschedules_two_days_later_up_to_three_tries(ctx, actor):
    c = customer("sales1")
    t = add_task(c, "new_customer_revisit", TODAY, "sales1")
    sales1 = actor("sales1")
    t = care.complete(t.id, "not_reached", "no answer", sales1, today=TODAY)
    assert (t.status, t.due_date, t.attempts) == ("open", D(2026, 3, 12), 1)
    t = care.complete(t.id, "not_reached", "", sales1, today=D(2026, 3, 12))
    assert (t.status, t.due_date, t.attempts) == ("open", D(2026, 3, 14), 2)
    t = care.complete(t.id, "not_reached", "voicemail", sales1, today=D(2026, 3, 14))
    assert (t.status, t.attempts, t.outcome) == ("done", 3, "not_reached")  # third try: given up
    assert t.notes.splitlines() == ["2026-03-10 sales1: no answer", "2026-03-14 sales1: voicemail"]
    assert t.completed_by_id == sales1.id
    with pytest.raises(Invalid) as exc:
        care.complete(t.id, "reached", "", sales1, today=TODAY)
    assert "status" in exc.value.errors


def test_retry_interval_and_limit_come_from_the_rule(ctx, actor):
    r = rule("birthday_greeting")
    care_rules.update(r.id, {"max_attempts": 2, "retry_days": 5}, actor("manager"))
    t = add_task(customer(), "birthday_greeting", TODAY, "agent1")
    t = care.complete(t.id, "not_reached", "", actor("agent1"), today=TODAY)
    assert (t.status, t.due_date) == ("open", D(2026, 3, 15))
    assert care.complete(t.id, "not_reached", "", actor("agent1"), today=TODAY).status == "done"


@pytest.mark.parametrize("outcome", ["reached", "refused", "wants_offer", "complaint"])
def test_other_outcomes_close_the_task(ctx, actor, outcome):
    t = add_task(customer(), "new_customer_revisit", TODAY, "sales1")
    t = care.complete(t.id, outcome, "ok", actor("sales1"), today=TODAY)
    assert (t.status, t.outcome, t.attempts) == ("done", outcome, 1)


def test_outcome_is_validated_and_other_peoples_tasks_are_not_found(ctx, actor):
    t = add_task(customer(), "new_customer_revisit", TODAY, "sales1")
    with pytest.raises(Invalid) as exc:
        care.complete(t.id, "maybe", "", actor("sales1"), today=TODAY)
    assert "outcome" in exc.value.errors
    with pytest.raises(NotFound):
        care.complete(t.id, "reached", "", actor("sales2"), today=TODAY)
    assert care.complete(t.id, "reached", "", actor("manager"), today=TODAY).status == "done"


def test_manager_reassigns_in_bulk_and_others_may_not(ctx, actor):
    c = customer()
    a = add_task(c, "new_customer_revisit", TODAY, "sales1", key="x1")
    b = add_task(c, "new_customer_revisit", TODAY, "sales1", key="x2")
    done = add_task(c, "new_customer_revisit", TODAY, "sales1", key="x3", status="done")
    with pytest.raises(Forbidden):
        care.reassign([a.id], actor("sales2").id, actor("sales1"))
    db.session.rollback()
    assert care.reassign([a.id, b.id, done.id], actor("sales2").id, actor("manager")) == 2
    db.session.expire_all()
    assert {a.assignee_id, b.assignee_id} == {actor("sales2").id}
    assert done.assignee_id == actor("sales1").id  # closed tasks stay with who did them
    with pytest.raises(Invalid):
        care.reassign([], actor("sales2").id, actor("manager"))
    with pytest.raises(Invalid):
        care.reassign([a.id], 999999, actor("manager"))


def test_a_reassign_from_a_stale_read_is_a_conflict_and_moves_nothing(ctx, actor):
    """The API checks the version it was sent, then moves the task in one UPDATE on that version:
    someone's change landing in between is refused, not overwritten."""
    t = add_task(customer(), "new_customer_revisit", TODAY, "sales1", key="race")
    read = t.version
    care.reassign([t.id], actor("sales2").id, actor("manager"))  # lands after the caller read the task
    with pytest.raises(Conflict):
        care.reassign([t.id], actor("sales1").id, actor("manager"), version=read)
    db.session.expire_all()
    assert t.assignee_id == actor("sales2").id and t.version == read + 1
    assert care.reassign([t.id], actor("sales1").id, actor("manager"), version=read + 1) == 1


def test_team_completion_rates(ctx, actor):
    c = customer()
    for i in range(4):
        add_task(c, "new_customer_revisit", TODAY - dt.timedelta(days=i), "sales1", key=f"s1-{i}")
    for i in range(2):
        add_task(c, "new_customer_revisit", TODAY - dt.timedelta(days=1), "sales2", key=f"s2-{i}")
    add_task(c, "new_customer_revisit", TODAY + dt.timedelta(days=3), "sales2", key="future")
    tasks = care.team_open_tasks(actor("manager"), actor("sales1").id)
    for t in tasks[:3]:
        care.complete(t.id, "reached", "", actor("sales1"), today=TODAY)
    stats = {s.username: s for s in care.team_stats(actor("manager"), TODAY)}
    assert (stats["sales1"].due, stats["sales1"].done, stats["sales1"].rate) == (4, 3, 75.0)
    assert (stats["sales2"].due, stats["sales2"].done, stats["sales2"].rate) == (2, 0, 0.0)
    assert (stats["sales2"].open_overdue, stats["sales2"].open_total) == (2, 3)
    with pytest.raises(Forbidden):
        care.team_stats(actor("sales1"), TODAY)
