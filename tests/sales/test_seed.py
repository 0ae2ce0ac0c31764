"""`crm seed` adds leads, opportunities, contact logs and orders in proportion, consistent with the rules."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from app.extensions import db
from app.services import sales_dashboard, seed
from app.services.opportunities import TRANSITIONS
from app.services.sales_dashboard import Filters
from tests.conftest import actor_for

N = 150


def q(sql: str) -> list[tuple]:
    return [tuple(r) for r in db.session.execute(text(sql)).all()]


def test_seeded_sales_history_is_proportional_and_consistent(ctx):
    seed.run(N, months=6, random_seed=11, today=dt.date(2026, 6, 15))
    opps = q("SELECT count(*) FROM opportunity")[0][0]
    assert opps == round(N * seed.seed_sales.OPPORTUNITY_SHARE)
    assert q("SELECT count(*) FROM lead WHERE status <> 'converted'")[0][0] == round(N * 0.05)
    assert q("SELECT count(*) FROM contact_log")[0][0] >= opps
    # Every opportunity starts at potential, and each recorded move is a legal one, in time order.
    moves: dict[int, list[tuple]] = {}
    for opp_id, frm, to, at in q("SELECT opportunity_id, from_stage, to_stage, changed_at FROM "
                                 "opportunity_stage_change ORDER BY opportunity_id, changed_at, id"):
        moves.setdefault(opp_id, []).append((frm, to, at))
    assert len(moves) == opps
    stages = dict(q("SELECT id, stage FROM opportunity"))
    for opp_id, steps in moves.items():
        assert steps[0][:2] == (None, "potential")
        for frm, to, _at in steps[1:]:
            assert to in TRANSITIONS[frm], (opp_id, frm, to)
        assert steps[-1][1] == stages[opp_id]
    assert q("SELECT count(*) FROM opportunity WHERE stage = 'lost' AND lost_reason IS NULL")[0][0] == 0
    # The stored furthest stage agrees with the recorded moves.
    rank = {"potential": 0, "intent": 1, "negotiation": 2, "won": 3}
    stored = dict(q("SELECT id, reached_rank FROM opportunity"))
    for opp_id, steps in moves.items():
        assert stored[opp_id] == max(rank.get(to, 0) for _f, to, _a in steps), opp_id
    # Orders only for won opportunities; owners follow the customer's owner.
    assert q("SELECT count(*) FROM sales_order o JOIN opportunity p ON p.id = o.opportunity_id "
             "WHERE p.stage <> 'won'")[0][0] == 0
    assert q("SELECT count(*) FROM opportunity p JOIN customer c ON c.id = p.customer_id "
             "WHERE c.owner_id IS NOT NULL AND p.owner_id <> c.owner_id")[0][0] == 0
    assert q("SELECT count(*) FROM lead l JOIN customer c ON c.id = l.customer_id "
             "WHERE l.mobile <> c.mobile")[0][0] == 0
    # The dashboard agrees with SQL on the seeded data.
    f = Filters(dt.date(2025, 1, 1), dt.date(2026, 6, 15), None)
    funnel = {r["stage"]: r["count"] for r in sales_dashboard.funnel(f, actor_for("manager"))}
    assert funnel["potential"] == opps
    assert funnel["won"] == q("SELECT count(*) FROM opportunity WHERE stage = 'won'")[0][0]
