"""The salesperson's work pages at scale (issue 7.9): the board shows each column's first cards in
order from one union, and neither the board nor the lead list reads more as the cards grow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import update

from app.extensions import db
from app.models.lead import Lead
from app.models.opportunity import Opportunity
from app.services import opportunities
from tests.conftest import actor_for, recorded_statements
from tests.sales.conftest import make_lead, make_opportunity


@contextmanager
def statements() -> Iterator[list[str]]:
    db.session.expire_all()  # every measured request starts alike: nothing left loaded by the test
    with recorded_statements() as seen:
        yield seen


def test_board_columns_keep_their_order_and_limits(ctx):
    today = dt.date(2026, 6, 1)
    later = make_opportunity(expected_close_date=(today + dt.timedelta(days=20)).isoformat())
    sooner = make_opportunity(expected_close_date=(today + dt.timedelta(days=2)).isoformat())
    middle = make_opportunity(expected_close_date=(today + dt.timedelta(days=9)).isoformat())
    won = [make_opportunity(stage="won") for _ in range(3)]
    for n, opp in enumerate(won):  # closed on different days; the newest comes first
        db.session.execute(update(Opportunity).where(Opportunity.id == opp.id).values(
            closed_at=dt.datetime(2026, 5, 1 + n, 3, 0)))
    db.session.commit()
    db.session.expire_all()
    board = opportunities.board(actor_for("sales1"), per_stage=2, per_closed=2)
    assert [o.id for o in board["potential"]] == [sooner.id, middle.id]
    assert [o.id for o in board["won"]] == [won[2].id, won[1].id]
    assert board["intent"] == [] and board["lost"] == []
    others = opportunities.board(actor_for("sales2"))
    assert all(not column for column in others.values())  # row rules: sales2 sees none of sales1's
    assert later.id in {o.id for o in opportunities.board(actor_for("sales1"))["potential"]}


def test_board_statements_do_not_grow_with_cards_or_stages(ctx, as_user):
    client = as_user("sales1")
    make_opportunity()
    client.get("/sales/board/")
    with statements() as few:
        assert client.get("/sales/board/").status_code == 200
    for stage in ("potential", "intent", "negotiation", "won", "lost", "intent"):
        make_opportunity(stage=stage)
    with statements() as many:
        page = client.get("/sales/board/")
    assert page.status_code == 200
    assert len(many) == len(few), many
    # 19 before issue 7.9: a query per column and two eager loads each
    assert len(many) <= 9, many


def test_lead_list_statements_do_not_grow_with_its_rows(ctx, as_user):
    client = as_user("sales1")
    make_lead()
    client.get("/leads/list/")
    with statements() as few:
        assert client.get("/leads/list/").status_code == 200
    made = [make_lead() for _ in range(8)]
    db.session.execute(update(Lead).where(Lead.id == made[3].id).values(priority_score=99))
    db.session.commit()
    with statements() as many:
        page = client.get("/leads/list/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index(f"/leads/show/{made[3].id}") < html.index(f"/leads/show/{made[0].id}")  # best first
    assert len(many) == len(few), many
    assert len(many) <= 12, many
