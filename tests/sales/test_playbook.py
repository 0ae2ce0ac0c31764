"""Stage playbook: shipped defaults, suggestions per stage with due dates, overdue flagged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.sales_playbook import PlaybookAction
from app.services import opportunities, playbook
from app.services.errors import Forbidden, Invalid
from tests.sales.conftest import make_opportunity


def test_shipped_defaults_are_created_once(ctx):
    playbook.ensure_defaults()
    assert playbook.ensure_defaults() == 0
    by_stage = {a.stage: a for a in db.session.execute(select(PlaybookAction)).scalars()}
    assert by_stage["potential"].due_days == 3 and "3 days" in by_stage["potential"].title
    assert "comparison" in by_stage["intent"].title
    assert by_stage["negotiation"].discount_threshold == Decimal("10.00")
    assert playbook.threshold() == Decimal("10.00")


def test_suggestions_follow_the_stage_and_flag_overdue(ctx, actor):
    playbook.ensure_defaults()
    opp = make_opportunity()
    entered = opp.stage_entered_at.date()
    [s] = playbook.for_opportunity(opp, entered + dt.timedelta(days=1))
    assert s.action.code == "potential_call_back" and not s.overdue and not s.done
    [s] = playbook.for_opportunity(opp, entered + dt.timedelta(days=5))
    assert s.overdue
    playbook.mark_done(opp.id, s.action.id, actor("sales1"))
    [s] = playbook.for_opportunity(opp, entered + dt.timedelta(days=5))
    assert s.done and not s.overdue
    opp = opportunities.move(opp.id, "intent", actor("sales1"))
    assert [x.action.code for x in playbook.for_opportunity(opp, entered)] == ["intent_plan_comparison"]
    with pytest.raises(Invalid):  # an action of another stage
        playbook.mark_done(opp.id, s.action.id, actor("sales1"))


def test_only_managers_configure(ctx, actor):
    with pytest.raises(Forbidden):
        playbook.create({"code": "x", "stage": "intent", "title": "Visit"}, actor("sales1"))
    with pytest.raises(Invalid) as exc:
        playbook.create({"code": "x", "stage": "won", "title": "", "discount_threshold": "150"}, actor("manager"))
    assert set(exc.value.errors) == {"stage", "title", "discount_threshold"}
    action = playbook.create({"code": "x", "stage": "intent", "title": "Visit the store", "due_days": "1"},
                             actor("manager"))
    assert action.enabled and action.due_days == 1
    playbook.delete(action.id, actor("manager"))
    assert db.session.get(PlaybookAction, action.id) is None
