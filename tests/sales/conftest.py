"""Sales test helpers: leads, opportunities and orders built through the services."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from app.services import leads, opportunities, orders
from app.services.identity import make_id_number
from tests.conftest import actor_for
from tests.factories import make_customer, make_plan

_seq = itertools.count(1)


def lead_data(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    data = {"name": f"线索{n}", "mobile": f"139{n:08d}", "source": "website", "interest": "5G plan"}
    data.update(overrides)
    return data


def an_id_number() -> str:
    n = next(_seq)
    return make_id_number("110105", dt.date(1985, 1, 1) + dt.timedelta(days=n), n, "F")


def make_lead(username: str = "sales1", **overrides: Any) -> Any:
    return leads.create(lead_data(**overrides), actor_for(username))


def make_opportunity(username: str = "sales1", stage: str = "potential", **overrides: Any) -> Any:
    who = actor_for(username)
    customer = make_customer(who)
    opp = opportunities.create({"customer_id": customer.id, "name": "5G upgrade", "expected_revenue": "1200.00",
                                **overrides}, who)
    path = {"potential": [], "intent": ["intent"], "negotiation": ["intent", "negotiation"],
            "won": ["intent", "negotiation", "won"]}
    if stage == "lost":
        opportunities.move(opp.id, "lost", who, reason="price")
    for step in path.get(stage, []):
        opportunities.move(opp.id, step, who)
    return opp


def make_order(username: str = "sales1", state: str = "draft", number: str | None = "13700000001") -> Any:
    who = actor_for(username)
    opp = make_opportunity(username, "won")
    plan = make_plan(actor_for("manager"), monthly_fee="99.00")
    order = orders.create({"opportunity_id": opp.id, "lines": [
        {"kind": "plan", "plan_id": plan.id, "number": number, "unit_price": "89.00"},
        {"kind": "device", "description": "5G phone", "unit_price": "1999.00"},
    ]}, who)
    path = ["submitted", "approved", "delivered", "collected", "closed"]
    for step in path[:path.index(state) + 1] if state in path else []:
        mover = actor_for("manager") if step == "approved" else who
        orders.transition(order.id, step, mover, method="cash")
    return order


def tr(app: Any, msgid: str, **kwargs: Any) -> str:
    """A message as the pages show it (same locale), for comparing with page text."""
    from flask_babel import gettext

    with app.test_request_context():
        return gettext(msgid, **kwargs)
