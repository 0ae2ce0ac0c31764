"""Payments (缴费): record a payment against a bill and settle it, in one transaction."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from app.extensions import db
from app.models.bill import Bill
from app.models.payment import PAYMENT_METHODS, Payment
from app.services import audit, customers
from app.services.actor import Actor
from app.services.errors import Invalid
from app.services.validation import FieldError, check_choice, check_id, check_money


def record(data: dict[str, Any], actor: Actor) -> Payment:
    errors: dict[str, str] = {}
    customer_id = check_id(data.get("customer_id"))
    customer = customers.get(customer_id, actor) if customer_id is not None else None
    if customer is None:
        errors["customer_id"] = _("Choose a customer.")
    try:
        amount = check_money(data.get("amount"), allow_zero=False)
    except FieldError as exc:
        errors["amount"] = str(exc)
        amount = None
    try:
        method = check_choice(data.get("method"), PAYMENT_METHODS)
    except FieldError as exc:
        errors["method"] = str(exc)
        method = None
    bill = None
    if data.get("bill_id") not in (None, ""):
        # A non-numeric or impossible id from an API client is "no such bill", not a 500.
        bill_id = check_id(data["bill_id"])
        bill = db.session.get(Bill, bill_id) if bill_id is not None else None
        if bill is None or (customer is not None and bill.customer_id != customer.id):
            errors["bill_id"] = _("This bill does not belong to the customer.")
        elif amount is not None and amount > bill.outstanding:
            errors["amount"] = _("Amount exceeds the bill's outstanding %(amount)s.", amount=bill.outstanding)
    if errors:
        raise Invalid(errors)
    payment = Payment(
        customer_id=customer.id,
        bill_id=bill.id if bill else None,
        amount=amount,
        method=method,
        operator_id=actor.id,
        reference=(str(data.get("reference") or "").strip()[:64] or None),
    )
    db.session.add(payment)
    if bill is not None:
        bill.paid_amount = bill.paid_amount + amount
        bill.status = "paid" if bill.paid_amount >= bill.total else "partial"
    db.session.flush()
    audit.record(actor, "create", "payment", payment.id, {"after": {
        "customer_id": customer.id, "bill_id": payment.bill_id, "amount": str(amount), "method": method,
    }})
    db.session.commit()
    return payment
