"""Seeded tickets: in proportion to the customers, consistent with the ticket rules, in the past."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from app.extensions import db
from app.models.subscription import Subscription
from app.models.ticket import OPEN_STATUSES, Ticket, TicketDepartmentTime, TicketEvent, TicketTransfer
from app.services import seed, seed_tickets, tickets

TODAY = dt.date(2026, 6, 15)


def test_seed_creates_consistent_tickets_in_proportion(ctx):
    seed.run(400, months=6, random_seed=3, today=TODAY)
    rows = db.session.execute(select(Ticket)).scalars().all()
    assert len(rows) == round(400 * seed_tickets.PER_CUSTOMER_YEAR * 6 / 12)
    now = dt.datetime.combine(TODAY, dt.time(0, 0))
    subs = dict(db.session.execute(select(Subscription.id, Subscription.customer_id)).all())
    assert len({t.ticket_no for t in rows}) == len(rows)
    for t in rows:
        assert t.created_at <= now and t.updated_at <= now
        assert t.subscription_id is None or subs[t.subscription_id] == t.customer_id
        assert t.status in dict(tickets.STATUS_CHOICES)
        if t.status in ("resolved", "closed"):
            assert t.resolved_at is not None and t.resolution
            if t.ticket_type == "complaint":
                assert t.complaint_process and t.complaint_result
        else:
            assert t.status in OPEN_STATUSES and t.resolved_at is None
        moves = [(e.from_status, e.to_status) for e in db.session.execute(
            select(TicketEvent).where(TicketEvent.ticket_id == t.id, TicketEvent.kind == "status")
            .order_by(TicketEvent.at, TicketEvent.id)).scalars()]
        assert all(tickets.allowed(a, b) for a, b in moves), moves
        assert (moves[-1][1] if moves else "new") == t.status
    assert sum(t.subscription_id is not None for t in rows) > 0.9 * len(rows)
    transfers = db.session.execute(select(func.count()).select_from(TicketTransfer)).scalar()
    assert transfers == sum(t.transfer_count for t in rows) > 0
    open_stays = db.session.execute(select(func.count()).select_from(TicketDepartmentTime)
                                    .where(TicketDepartmentTime.left_at.is_(None))).scalar()
    assert open_stays == sum(1 for t in rows if t.status in OPEN_STATUSES)
    # the seeded queue is what the pages read: agents see their own tickets
    assert {t.ticket_type for t in rows} == set(dict(tickets.TYPE_CHOICES))
