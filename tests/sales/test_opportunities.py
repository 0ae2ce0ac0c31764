"""Opportunity stages: every legal move recorded, every illegal one refused by the one service."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.opportunity import STAGES, OpportunityStageChange
from app.services import opportunities
from app.services.errors import Forbidden, Invalid, NotFound
from app.services.opportunities import TRANSITIONS
from tests.sales.conftest import make_opportunity


def changes(opp_id: int) -> list[tuple]:
    rows = db.session.execute(select(OpportunityStageChange).where(
        OpportunityStageChange.opportunity_id == opp_id).order_by(OpportunityStageChange.id)).scalars()
    return [(r.from_stage, r.to_stage, r.changed_by_id) for r in rows]


def test_forward_path_records_who_when_from_to(ctx, actor):
    opp = make_opportunity(stage="won")
    s1 = actor("sales1").id
    assert changes(opp.id) == [(None, "potential", s1), ("potential", "intent", s1), ("intent", "negotiation", s1),
                               ("negotiation", "won", s1)]
    assert opp.closed_at is not None
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "stage")).scalars().all()


@pytest.mark.parametrize("start", ["potential", "intent", "negotiation", "won", "lost"])
def test_every_transition_from_each_stage(ctx, actor, start):
    for target in STAGES:
        if target == start:
            continue
        opp = make_opportunity(stage=start)
        before = len(changes(opp.id))
        if target in TRANSITIONS[start]:
            moved = opportunities.move(opp.id, target, actor("sales1"), reason="too expensive")
            assert moved.stage == target and len(changes(opp.id)) == before + 1
            assert changes(opp.id)[-1][:2] == (start, target)
        else:
            with pytest.raises(Invalid) as exc:
                opportunities.move(opp.id, target, actor("sales1"), reason="x")
            assert "stage" in exc.value.errors
            db.session.rollback()
            assert len(changes(opp.id)) == before


def test_expected_legal_moves():
    assert TRANSITIONS == {"potential": ("intent", "lost"), "intent": ("negotiation", "potential", "lost"),
                           "negotiation": ("won", "intent", "lost"), "won": (), "lost": ()}


def test_lost_needs_a_reason(ctx, actor):
    opp = make_opportunity(stage="intent")
    with pytest.raises(Invalid) as exc:
        opportunities.move(opp.id, "lost", actor("sales1"))
    assert "lost_reason" in exc.value.errors
    opp = opportunities.move(opp.id, "lost", actor("sales1"), reason="chose a competitor")
    assert (opp.stage, opp.lost_reason) == ("lost", "chose a competitor")


def test_update_with_a_stage_goes_through_the_same_rules(ctx, actor):
    opp = make_opportunity()
    with pytest.raises(Invalid):
        opportunities.update(opp.id, {"stage": "won"}, actor("sales1"))
    db.session.rollback()
    opp = opportunities.update(opp.id, {"stage": "intent", "expected_revenue": "99.50"}, actor("sales1"))
    assert (opp.stage, str(opp.expected_revenue)) == ("intent", "99.50")
    with pytest.raises(Invalid) as exc:
        opportunities.update(opp.id, {"expected_revenue": "-1"}, actor("sales1"))
    assert "expected_revenue" in exc.value.errors


def test_row_rules_and_reassignment(ctx, actor):
    opp = make_opportunity("sales1")
    with pytest.raises(NotFound):
        opportunities.get(opp.id, actor("sales2"))
    with pytest.raises(NotFound):
        opportunities.move(opp.id, "intent", actor("sales2"))
    with pytest.raises(Forbidden):
        opportunities.update(opp.id, {"owner_id": actor("sales2").id}, actor("sales1"))
    opportunities.update(opp.id, {"owner_id": actor("sales2").id}, actor("manager"))
    assert opportunities.get(opp.id, actor("sales2")).owner_id == actor("sales2").id
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "reassign",
                                                     AuditLog.entity == "opportunity")).scalar_one()
