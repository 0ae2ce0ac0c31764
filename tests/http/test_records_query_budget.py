"""The telecom record lists (bills, payments, usage, business changes) read each row's customer (and
bill, line, operator) in the page's own query: a page of 20 rows costs the same statements as a page
of 2, and still shows every row's customer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.extensions import db
from tests.conftest import actor_for, recorded_statements


def _records(app: Any, make: Any, n: int) -> list[str]:
    """n customers, each with a line (its opening is a business change), a month of usage and a bill
    part-paid by clerk1; returns the customers' names."""
    from app.models.usage import UsageRecord
    from app.services import payments

    names = []
    plan = make.plan()
    for _ in range(n):
        c = make.customer("clerk1")
        line = make.line(c, plan)
        bill = make.bill(c, "100.00")
        with app.app_context():
            payments.record({"customer_id": c.id, "bill_id": bill.id, "amount": Decimal("10.00"),
                             "method": "cash"}, actor_for("clerk1"))
            db.session.add(UsageRecord(customer_id=c.id, subscription_id=line.id, month=dt.date(2026, 1, 1),
                                       voice_minutes=100, sms_count=10, data_mb=2048))
            db.session.commit()
        names.append(c.name)
    return names


def _cost(app: Any, client: Any, url: str) -> tuple[int, str]:
    client.get(url)  # warm: the first request of a session reads things a later one has cached
    with recorded_statements(app) as seen:
        resp = client.get(url)
    assert resp.status_code == 200
    return len(seen), resp.get_data(as_text=True)


LISTS = ("/bills/list/", "/payments/list/", "/usage/list/", "/business-changes/list/")


def test_record_lists_do_not_read_customers_row_by_row(app, browser, make):
    manager = browser("manager")
    names = _records(app, make, 2)
    small = {url: _cost(app, manager, url)[0] for url in LISTS}
    names += _records(app, make, 18)
    for url, few in small.items():
        many, html = _cost(app, manager, url)
        assert many <= few, f"{url}: {few} statements for 2 rows, {many} for 20"
        assert all(name in html for name in names), url  # each row still shows its customer
