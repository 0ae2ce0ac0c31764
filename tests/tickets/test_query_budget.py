"""The agent's work pages at scale (issue 7.9): the queue keeps its order while reading each priority
from the open-ticket index, and the ticket page's database work does not grow with its timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import update

from app.extensions import db
from app.models.ticket import Ticket
from tests.conftest import actor_for, recorded_statements
from tests.tickets.conftest import T0, customer_with_line, new_ticket, user_id


@contextmanager
def statements() -> Iterator[list[str]]:
    db.session.expire_all()  # every measured request starts alike: nothing left loaded by the test
    with recorded_statements() as seen:
        yield seen


def _ticket(priority: str, minutes: int, assignee: str | None = "agent1") -> Ticket:
    t = new_ticket(at=T0 + dt.timedelta(minutes=minutes))
    db.session.execute(update(Ticket).where(Ticket.id == t.id).values(
        priority=priority, assignee_id=user_id(assignee) if assignee else None,
        status="assigned" if assignee else "new"))
    db.session.commit()
    return t


def test_queue_is_most_urgent_then_oldest_and_cut_at_the_limit(ctx):
    from app.services import tickets

    made = [_ticket("normal", 1), _ticket("low", 0), _ticket("urgent", 5), _ticket("high", 3),
            _ticket("urgent", 2), _ticket("normal", 0), _ticket("high", 4)]
    closed = _ticket("urgent", -10)
    db.session.execute(update(Ticket).where(Ticket.id == closed.id).values(status="closed"))
    db.session.commit()
    by_id = {t.id: t for t in made}
    expected = sorted(made, key=lambda t: (("urgent", "high", "normal", "low").index(by_id[t.id].priority),
                                           t.created_at, t.id))
    db.session.expire_all()
    agent = actor_for("agent1")
    assert [t.id for t in tickets.queue(agent, "mine")] == [t.id for t in expected]
    assert [t.id for t in tickets.queue(agent, "mine", limit=3)] == [t.id for t in expected[:3]]
    assert tickets.queue_count(agent, "mine") == len(made)  # the closed one is not in the queue


def test_unassigned_tab_keeps_the_same_order(ctx):
    from app.services import tickets

    late_urgent, early_normal = _ticket("urgent", 9, assignee=None), _ticket("normal", 1, assignee=None)
    db.session.expire_all()
    rows = tickets.queue(actor_for("agent1"), "unassigned")
    assert [t.id for t in rows] == [late_urgent.id, early_normal.id]


def test_queue_page_statements_do_not_grow_with_its_rows(ctx, as_user):
    client = as_user("agent1")
    _ticket("high", 1)
    client.get("/tickets/queue")  # warm-up: first-request work is not the page's
    with statements() as few:
        assert client.get("/tickets/queue").status_code == 200
    for n in range(8):
        _ticket(("urgent", "high", "normal", "low")[n % 4], 10 + n)
    with statements() as many:
        page = client.get("/tickets/queue")
    assert page.status_code == 200
    assert len(many) == len(few), many
    assert len(many) <= 10, many


def test_ticket_page_statements_do_not_grow_with_the_timeline(ctx, as_user):
    from app.services import tickets

    customer, _line = customer_with_line()
    ticket = new_ticket(customer_id=customer.id)
    agent = actor_for("agent1")
    client = as_user("agent1")
    client.get(f"/tickets/{ticket.id}")
    with statements() as before:
        first = client.get(f"/tickets/{ticket.id}")
    assert first.status_code == 200
    for n in range(6):
        tickets.add_note(ticket.id, f"第{n}次跟进", agent)
    with statements() as after:
        page = client.get(f"/tickets/{ticket.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "第5次跟进" in html and customer.name in html  # the timeline and the customer box
    assert len(after) == len(before), after
    # 39 before issue 7.9 (the full customer 360 load for a three-line box, departments read twice)
    assert len(after) <= 24, after
