"""`make run`'s first-run seed (3,000 customers, 12 months) completes, tickets and sales included.

At this size SQLite spills the seed's write transaction to disk; any read on a second connection
during the load then fails with "database is locked" (the seed once looked up agents and plans
through the ORM session in the middle of the load)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models.opportunity import Opportunity
from app.models.ticket import Ticket
from app.services import seed


def test_demo_sized_seed_completes_with_tickets_and_opportunities(ctx):
    result = seed.run(3000, months=12, random_seed=2026)
    assert result.customers == 3000
    tickets = db.session.execute(select(func.count()).select_from(Ticket)).scalar()
    opportunities = db.session.execute(select(func.count()).select_from(Opportunity)).scalar()
    assert tickets == 900  # 0.3 per customer per year
    assert opportunities == 600  # 20% of customers
    assigned = db.session.execute(select(func.count()).select_from(Ticket)
                                  .where(Ticket.assignee_id.is_not(None))).scalar()
    assert assigned > 0  # the seeded agents were found
