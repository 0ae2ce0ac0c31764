"""Helpers for the SLA, survey and statistics tests: tickets made through the ticket service."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import actor_for
from tests.factories import make_customer

T0 = dt.datetime(2026, 3, 2, 1, 0)  # a Monday, 09:00 in Shanghai (naive UTC)


def new_ticket(at: dt.datetime = T0, username: str = "agent1", **data: Any) -> Any:
    from app.services import tickets

    if "customer_id" not in data:
        data["customer_id"] = make_customer(actor_for("clerk1")).id
    data.setdefault("department_id", actor_for(username).department_id)  # the agent's own queue
    values = {"channel": "phone", "ticket_type": "fault", "priority": "normal", "subject": "No signal at home",
              "description": "The customer has had no signal since yesterday.", **data}
    return tickets.create(values, actor_for(username), at=at)


@pytest.fixture
def sla_row():  # noqa: ANN201
    def _row(ticket_id: int) -> Any:
        from sqlalchemy import select

        from app.extensions import db
        from app.models.sla import TicketSla

        db.session.expire_all()
        return db.session.execute(select(TicketSla).where(TicketSla.ticket_id == ticket_id)).scalar_one()

    return _row


@pytest.fixture(autouse=True)
def _no_stats_cache(app):  # noqa: ANN001, ANN202
    """Each test makes its own customers: customer counts must not come from another test's cache."""
    app.config["CRM_STATS_CACHE_SECONDS"] = 0
    yield
    app.config.pop("CRM_STATS_CACHE_SECONDS", None)
