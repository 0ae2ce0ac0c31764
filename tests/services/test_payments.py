"""Payments settle their bill in the same transaction; amounts are validated as money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.bill import Bill
from app.models.payment import Payment
from app.services import payments
from app.services.errors import Invalid, NotFound
from tests.factories import make_customer


def make_bill(customer, total: str = "100.00") -> Bill:  # noqa: ANN001
    bill = Bill(customer_id=customer.id, month=dt.date(2026, 1, 1), base_fee=Decimal(total), total=Decimal(total),
                paid_amount=Decimal("0"), due_date=dt.date(2026, 2, 15), status="unpaid")
    db.session.add(bill)
    db.session.commit()
    return bill


def pay(actor, customer, bill, amount, method="cash"):  # noqa: ANN001, ANN201
    return payments.record({"customer_id": customer.id, "bill_id": bill.id if bill else None,
                            "amount": amount, "method": method}, actor)


def test_partial_then_full_payment_settles_the_bill(actor):
    clerk = actor("clerk1")
    c = make_customer(clerk)
    bill = make_bill(c, "100.00")
    p1 = pay(clerk, c, bill, "30.50")
    db.session.refresh(bill)
    assert (bill.paid_amount, bill.status) == (Decimal("30.50"), "partial")
    assert bill.outstanding == Decimal("69.50")
    pay(clerk, c, bill, "69.50", method="wechat")
    db.session.refresh(bill)
    assert (bill.paid_amount, bill.status) == (Decimal("100.00"), "paid")
    assert p1.operator_id == clerk.id
    entries = db.session.execute(
        select(AuditLog).where(AuditLog.entity == "payment").order_by(AuditLog.id)).scalars().all()
    assert len(entries) == 2 and '"amount": "30.50"' in entries[0].changes


def test_amount_above_outstanding_is_refused_and_nothing_changes(actor):
    clerk = actor("clerk1")
    c = make_customer(clerk)
    bill = make_bill(c, "100.00")
    pay(clerk, c, bill, "60")
    with pytest.raises(Invalid) as exc:
        pay(clerk, c, bill, "40.01")
    assert set(exc.value.errors) == {"amount"}
    db.session.rollback()
    db.session.refresh(bill)
    assert bill.paid_amount == Decimal("60.00") and bill.status == "partial"
    assert db.session.query(Payment).count() == 1


@pytest.mark.parametrize("amount", ["0", "-5", "1.234", "NaN", "abc", None])
def test_bad_amounts_name_the_amount_field(actor, amount):
    clerk = actor("clerk1")
    c = make_customer(clerk)
    bill = make_bill(c)
    with pytest.raises(Invalid) as exc:
        pay(clerk, c, bill, amount)
    assert "amount" in exc.value.errors


def test_all_bad_fields_at_once(actor):
    with pytest.raises(Invalid) as exc:
        payments.record({"customer_id": "x", "bill_id": "abc", "amount": "-1", "method": "gold"}, actor("clerk1"))
    assert {"customer_id", "amount", "method", "bill_id"} <= set(exc.value.errors)


def test_bill_of_another_customer_is_refused(actor):
    clerk = actor("clerk1")
    a, b = make_customer(clerk), make_customer(clerk)
    bill_b = make_bill(b)
    with pytest.raises(Invalid) as exc:
        pay(clerk, a, bill_b, "10")
    assert "bill_id" in exc.value.errors


def test_payment_without_bill_is_a_prepayment(actor):
    clerk = actor("clerk1")
    c = make_customer(clerk)
    p = pay(clerk, c, None, "50")
    assert p.bill_id is None and p.amount == Decimal("50.00")


def test_sales_cannot_pay_for_another_salespersons_customer(actor):
    theirs = make_customer(actor("sales2"))
    bill = make_bill(theirs)
    with pytest.raises(NotFound):
        pay(actor("sales1"), theirs, bill, "10")
