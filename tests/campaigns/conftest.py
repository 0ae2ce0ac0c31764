"""Campaign tests: builders writing rows directly (dates under test control) and a fixed clock.

Services take `now`/`today`, so no test depends on the wall clock. NOW is 10:00 in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.extensions import db
from app.models.customer import Customer
from tests.conftest import actor_for
from tests.factories import make_customer

NOW = dt.datetime(2026, 3, 10, 2, 0)
TODAY = dt.date(2026, 3, 10)


def customer(username: str = "sales1", consent: bool = True, **overrides: Any) -> Customer:
    c = make_customer(actor_for(username), **overrides)
    c.consent_marketing = consent
    db.session.commit()
    return c


def campaign_data(**overrides: Any) -> dict[str, Any]:
    data = {"name": "春季流量包回馈", "start_date": "2026-03-01", "end_date": "2026-03-31", "channel": "call",
            "offer": "Double data for 3 months", "conversion_days": 14, "filters": {}}
    data.update(overrides)
    return data


def make_campaign(**overrides: Any) -> Any:
    from app.services import campaigns

    return campaigns.create(campaign_data(**overrides), actor_for("manager"))
