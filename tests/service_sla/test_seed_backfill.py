"""Bulk-loaded tickets get the same SLA rows the hooks would give, and resolved ones a survey."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text

from app.extensions import db
from app.models.sla import TicketSla
from app.models.survey import Survey
from app.services import sla, sla_seed, tickets
from tests.conftest import actor_for
from tests.service_sla.conftest import T0, new_ticket

FIELDS = ("ticket_type", "response_minutes", "resolve_minutes", "started_at", "response_warn_at", "response_due",
          "resolve_warn_at", "resolve_due", "responded_at", "stopped_at", "response_breached_at",
          "resolve_breached_at", "resolve_breaches")


def snapshot() -> dict[int, tuple]:
    db.session.expire_all()
    rows = db.session.execute(select(TicketSla).order_by(TicketSla.ticket_id)).scalars()
    return {r.ticket_id: tuple(getattr(r, f) for f in FIELDS) for r in rows}


def test_backfill_matches_the_hooks(ctx):
    agent = actor_for("agent1")
    quick = new_ticket(at=T0)
    tickets.take(quick.id, agent, at=T0 + dt.timedelta(minutes=3))
    tickets.resolve(quick.id, {"resolution": "Done."}, agent, at=T0 + dt.timedelta(hours=1))
    late = new_ticket(at=T0 + dt.timedelta(hours=1))
    sla.check(T0 + dt.timedelta(hours=4))  # the minute job sees the response target pass
    tickets.take(late.id, agent, at=T0 + dt.timedelta(hours=5))
    now = T0 + dt.timedelta(days=10)
    sla.check(now)
    expected = snapshot()
    assert expected[late.id][FIELDS.index("response_breached_at")] is not None

    db.session.execute(text("DELETE FROM ticket_sla"))
    db.session.execute(text("DELETE FROM survey"))
    db.session.commit()
    sla_seed.backfill(now)
    got = snapshot()
    for ticket_id, row in expected.items():
        for name, want, have in zip(FIELDS, row, got[ticket_id], strict=True):
            if name.endswith("breached_at"):
                assert (want is None) == (have is None), name  # the job marks at its run, the backfill at the due time
            else:
                assert want == have, name
    escalated = db.session.execute(select(TicketSla.response_escalated_at).where(
        TicketSla.ticket_id == late.id)).scalar()
    assert escalated is not None  # history is not escalated again by the job
    assert sla.check(now + dt.timedelta(minutes=1)).escalations == 0

    surveys = db.session.execute(select(Survey)).scalars().all()
    assert [s.subject_id for s in surveys] == [quick.id]
    sla_seed.backfill(now)  # again: nothing new
    assert len(snapshot()) == 2 and db.session.query(Survey).count() == 1
