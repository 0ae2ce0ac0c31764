"""Sales orders (订单) for won opportunities, as ONE state machine:

draft → submitted → approved / rejected (a Manager decides) → delivered → collected → closed;
rejected → draft lets the salesperson revise. No state is skipped, lines change only in draft, every
transition is audited. Collecting writes the payment and opens the line of each new plan through
the foundation's services, all in one transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.order import LINE_KINDS, ORDER_STATES, SalesOrder, SalesOrderLine
from app.models.payment import PAYMENT_METHODS
from app.models.plan import Plan
from app.models.subscription import Subscription
from app.models.vas import ValueAddedService
from app.security.access import scope_sales, sees_all_sales
from app.services import audit, opportunities, payments, subscriptions
from app.services.actor import Actor
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.sales import ORDER_STATE_LABELS, one_transaction, with_ids
from app.services.validation import (
    FieldError,
    check_choice,
    check_id,
    check_int,
    check_mobile,
    check_money,
    check_text,
    check_version,
)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("submitted",),
    "submitted": ("approved", "rejected"),
    "approved": ("delivered",),
    "rejected": ("draft",),
    "delivered": ("collected",),
    "collected": ("closed",),
    "closed": (),
}
MANAGER_TRANSITIONS = {("submitted", "approved"), ("submitted", "rejected")}
EDITABLE_STATES = ("draft",)


def get(order_id: Any, actor: Actor) -> SalesOrder:
    pk = check_id(order_id)
    if pk is None:
        raise NotFound()
    order = db.session.execute(scope_sales(select(SalesOrder).where(SalesOrder.id == pk), actor, SalesOrder)
                               ).scalar_one_or_none()
    if order is None:
        raise NotFound()
    return order


def _clean_lines(raw: Any) -> list[SalesOrderLine]:
    if not isinstance(raw, list) or not raw:
        raise Invalid({"lines": _("Add at least one line.")})
    errors: list[str] = []
    lines = []
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            errors.append(_("Line %(n)d: not a valid line.", n=n))
            continue
        try:
            kind = check_choice(item.get("kind"), LINE_KINDS)
            quantity = check_int(item.get("quantity") if item.get("quantity") not in (None, "") else 1,
                                 minimum=1, maximum=1000)
            line = SalesOrderLine(kind=kind, quantity=quantity,
                                  description=check_text(item.get("description"), 128))
            if kind == "plan":
                plan = _row(Plan, item.get("plan_id"))
                line.plan_id, line.list_price = plan.id, plan.monthly_fee
                number = str(item.get("number") or "").strip()
                if number:
                    line.number = check_mobile(number) if plan.plan_type == "mobile" else check_text(number, 20)
                    if quantity != 1:
                        raise FieldError(_("A plan line with a number opens one line: quantity must be 1."))
            elif kind == "vas":
                vas = _row(ValueAddedService, item.get("vas_id"))
                line.vas_id, line.list_price = vas.id, vas.monthly_fee
            else:
                if not line.description:
                    raise FieldError(_("Describe the device."))
            price = item.get("unit_price")
            line.unit_price = check_money(price) if price not in (None, "") else line.list_price
            if line.unit_price is None:
                raise FieldError(_("Give the unit price."))
            if line.list_price is None:
                line.list_price = line.unit_price
        except FieldError as exc:
            errors.append(_("Line %(n)d: %(error)s", n=n, error=str(exc)))
            continue
        lines.append(line)
    if errors:
        raise Invalid({"lines": errors})
    return lines


def _row(model: Any, value: Any) -> Any:
    pk = check_id(value)
    row = db.session.get(model, pk) if pk is not None else None
    if row is None or not row.active:
        raise FieldError(_("Not a valid choice: %(value)s.", value=value))
    return row


def _totals(order: SalesOrder, lines: list[SalesOrderLine]) -> None:
    order.total = sum((ln.unit_price * ln.quantity for ln in lines), Decimal("0.00")).quantize(Decimal("0.01"))
    order.list_total = sum((ln.list_price * ln.quantity for ln in lines), Decimal("0.00")).quantize(Decimal("0.01"))


def _line_dump(lines: list[SalesOrderLine]) -> list[dict[str, Any]]:
    return [{"kind": ln.kind, "plan_id": ln.plan_id, "vas_id": ln.vas_id, "quantity": ln.quantity,
             "unit_price": str(ln.unit_price)} for ln in lines]


def create(data: dict[str, Any], actor: Actor) -> SalesOrder:
    data = with_ids(data)
    errors: dict[str, str] = {}
    opp = None
    if data.get("opportunity_id") in (None, ""):
        errors["opportunity_id"] = _("This field is required.")
    else:
        try:
            opp = opportunities.get(data["opportunity_id"], actor)
        except NotFound:
            errors["opportunity_id"] = _("Not a valid choice: %(value)s.", value=data["opportunity_id"])
        else:
            if opp.stage != "won":
                errors["opportunity_id"] = _("Orders are made for won opportunities only.")
    try:
        notes = check_text(data.get("notes"), 255)
    except FieldError as exc:
        errors["notes"] = str(exc)
    if errors:
        raise Invalid(errors)
    lines = _clean_lines(data.get("lines"))
    now = utcnow()
    order = SalesOrder(opportunity_id=opp.id, customer_id=opp.customer_id, owner_id=opp.owner_id, state="draft",
                       notes=notes, state_changed_at=now)
    _totals(order, lines)
    db.session.add(order)
    db.session.flush()
    for ln in lines:
        ln.order_id = order.id
        db.session.add(ln)
    audit.record(actor, "create", "sales_order", order.id,
                 {"after": {"state": "draft", "total": str(order.total), "lines": _line_dump(lines)}})
    db.session.commit()
    return order



def update(order_id: Any, data: dict[str, Any], actor: Actor, version: Any = None) -> SalesOrder:
    """Edit notes / lines (draft only), or move the order: {"state": ..., "note": ..., "method": ...}."""
    data = with_ids(data)
    order = get(order_id, actor)
    version = check_version(version)
    if version is not None and version != order.version:
        # What the other person saved: the state, and the notes and total an edit would overwrite.
        raise Conflict(current={"state": order.state, "notes": order.notes or "", "total": str(order.total)})
    if "owner_id" in data and data["owner_id"] not in (None, "") and check_id(data["owner_id"]) != order.owner_id:
        if not sees_all_sales(actor):
            raise Forbidden(_("Only a manager can reassign an owner."))
        from app.models.user import CrmUser

        pk = check_id(data["owner_id"])
        if pk is None or db.session.get(CrmUser, pk) is None:
            raise Invalid({"owner_id": _("Not a valid choice: %(value)s.", value=data["owner_id"])})
        audit.record(actor, "reassign", "sales_order", order.id,
                     {"before": {"owner_id": order.owner_id}, "after": {"owner_id": pk}})
        order.owner_id = pk
    if "lines" in data or "notes" in data:
        if order.state not in EDITABLE_STATES:
            field = "lines" if "lines" in data else "notes"
            raise Invalid({field: _("The order can no longer be edited (it is %(state)s).",
                                    state=ORDER_STATE_LABELS[order.state])})
        changes: dict[str, Any] = {}
        if "notes" in data:
            try:
                order.notes = check_text(data["notes"], 255)
            except FieldError as exc:
                raise Invalid({"notes": str(exc)}) from None
            changes["notes"] = order.notes
        if "lines" in data:
            lines = _clean_lines(data["lines"])
            for old in list(order.lines):
                db.session.delete(old)
            db.session.flush()
            for ln in lines:
                ln.order_id = order.id
                db.session.add(ln)
            _totals(order, lines)
            changes["lines"] = _line_dump(lines)
            changes["total"] = str(order.total)
        audit.record(actor, "update", "sales_order", order.id, {"after": changes})
        db.session.flush()
    if data.get("state") not in (None, "", order.state):
        return transition(order.id, data["state"], actor, note=data.get("note"), method=data.get("method"))
    db.session.commit()
    return order


def transition(order_id: Any, to_state: Any, actor: Actor, note: Any = None, method: Any = None) -> SalesOrder:
    """The one place an order changes state."""
    order = get(order_id, actor)
    if to_state not in ORDER_STATES:
        raise Invalid({"state": _("Not a valid choice: %(value)s.", value=to_state)})
    if to_state not in TRANSITIONS[order.state]:
        raise Invalid({"state": _("An order cannot move from %(old)s to %(new)s.",
                                  old=ORDER_STATE_LABELS[order.state], new=ORDER_STATE_LABELS[to_state])})
    if (order.state, to_state) in MANAGER_TRANSITIONS and not actor.has_role("Admin", "Manager"):
        raise Forbidden(_("Only a manager can approve or reject an order."))
    try:
        note_text = check_text(note, 255, required=(to_state == "rejected"))
    except FieldError:
        raise Invalid({"note": _("Give the reason for rejecting the order.")}) from None
    old = order.state
    changes: dict[str, Any] = {"before": {"state": old}, "after": {"state": to_state}}
    with one_transaction():
        if to_state == "collected":
            changes["after"].update(_collect(order, method, actor))
        if to_state in ("approved", "rejected"):
            order.decided_by_id, order.decided_at, order.decision_note = actor.id, utcnow(), note_text
        elif note_text:
            changes["after"]["note"] = note_text
        order.state = to_state
        order.state_changed_at = utcnow()
        audit.record(actor, "transition", "sales_order", order.id, changes)
    return order


def _collect(order: SalesOrder, method: Any, actor: Actor) -> dict[str, Any]:
    """Payment for the total, and a subscription (with its business change) for each new plan line."""
    try:
        method = check_choice(method, PAYMENT_METHODS)
    except FieldError as exc:
        raise Invalid({"method": str(exc)}) from None
    # Check every number first, so a taken number fails before anything is written.
    for ln in order.lines:
        if ln.kind == "plan" and ln.number and db.session.execute(select(Subscription.id).where(
                Subscription.number == ln.number, Subscription.status != "terminated")).first():
            raise Invalid({"lines": _("Number %(number)s is already in service.", number=ln.number)})
    opened = []
    for ln in order.lines:
        if ln.kind == "plan" and ln.number:
            sub = subscriptions.open_line({"customer_id": order.customer_id, "plan_id": ln.plan_id,
                                           "number": ln.number}, actor)
            ln.subscription_id = sub.id
            opened.append(sub.id)
    result: dict[str, Any] = {"subscriptions": opened}
    if order.total > 0:
        payment = payments.record({"customer_id": order.customer_id, "amount": order.total, "method": method,
                                   "reference": f"order #{order.id}"}, actor)
        order.payment_id = payment.id
        result["payment_id"] = payment.id
    return result


ORDER_LABELS = {
    "id": _l("Order No."), "opportunity": _l("Opportunity"), "customer": _l("Customer"),
    "owner": _l("Owner (salesperson)"), "state": _l("State"), "state_label": _l("State"), "total": _l("Total"),
    "list_total": _l("List price total"), "discount_pct": _l("Discount (%)"), "notes": _l("Notes"),
    "decided_by": _l("Decided by"), "decided_at": _l("Decided at"), "decision_note": _l("Decision note"),
    "created_at": _l("Created at"), "state_changed_at": _l("State changed at"),
}
