"""Subscriptions: open a line, change its plan, suspend/resume; each writes a business change."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.business_change import BusinessChange
from app.models.plan import Plan
from app.models.subscription import Subscription, SubscriptionVas
from app.models.vas import ValueAddedService
from app.services import audit, customers
from app.services.actor import Actor
from app.services.care import business_date
from app.services.errors import Conflict, Invalid, NotFound
from app.services.masking import mask_mobile
from app.services.validation import FieldError, check_date, check_mobile, check_version


def _today() -> dt.date:
    """The business day (CRM_TIMEZONE, Asia/Shanghai): between 00:00 and 08:00 there the UTC or server
    date is still yesterday, and a line opened then would start a day early."""
    return business_date(utcnow())


def first_of_next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _plan(plan_id: Any) -> Plan:
    plan = db.session.get(Plan, int(plan_id)) if str(plan_id or "").isdigit() else None
    if plan is None or not plan.active:
        raise Invalid({"plan_id": _("Choose a plan that is on sale.")})
    return plan


def _change(sub: Subscription, kind: str, before: Any, after: Any, actor: Actor,
            effective: dt.date, reason: str | None = None) -> None:
    db.session.add(BusinessChange(
        customer_id=sub.customer_id, subscription_id=sub.id, change_type=kind,
        before=json.dumps(before, ensure_ascii=False) if before is not None else None,
        after=json.dumps(after, ensure_ascii=False) if after is not None else None,
        effective_date=effective, operator_id=actor.id, reason=reason,
    ))


def open_line(data: dict[str, Any], actor: Actor) -> Subscription:
    customer = customers.get(int(data.get("customer_id") or 0), actor)
    plan = _plan(data.get("plan_id"))
    errors = {}
    try:
        raw_number = str(data.get("number") or "").strip()
        number = check_mobile(raw_number) if plan.plan_type == "mobile" else raw_number
        if not number:
            raise FieldError(_("This field is required."))
    except FieldError as exc:
        errors["number"] = str(exc)
    try:
        effective = check_date(data.get("effective_date")) or _today()
        expiry = check_date(data.get("expiry_date"))
        if expiry and expiry <= effective:
            errors["expiry_date"] = _("Expiry date must be after the effective date.")
    except FieldError as exc:
        errors["effective_date"] = str(exc)
    if not errors and db.session.execute(
        select(Subscription.id).where(Subscription.number == number, Subscription.status != "terminated")
    ).first():
        errors["number"] = _("This number is already in service.")
    if errors:
        raise Invalid(errors)
    sub = Subscription(customer_id=customer.id, plan_id=plan.id, number=number,
                       effective_date=effective, expiry_date=expiry, status="active")
    db.session.add(sub)
    db.session.flush()
    if customer.plan_id is None:
        customer.plan_id = plan.id
    # History and audit never hold a full number (mobile lines are mobiles): masked like `mobile`.
    _change(sub, "open", None, {"plan": plan.code, "number": mask_mobile(number)}, actor, effective)
    audit.record(actor, "create", "subscription", sub.id, {"after": {"plan": plan.code, "customer_id": customer.id}})
    db.session.commit()
    return sub


def get(subscription_id: int, actor: Actor) -> Subscription:
    sub = db.session.get(Subscription, subscription_id)
    if sub is None:
        raise NotFound()
    customers.get(sub.customer_id, actor)  # applies the row rule
    return sub


def current_values(sub: Subscription) -> dict[str, str]:
    """The line as it is now, for a conflict: what the other person's change left."""
    return {"plan": str(sub.plan), "status": sub.status}


def _check_version(sub: Subscription, version: Any) -> None:
    """A change made on a stale view of the line (someone changed it since, or the same form was
    sent twice) is a Conflict."""
    if check_version(version) not in (None, sub.version):
        raise Conflict(current=current_values(sub))


def change_plan(subscription_id: int, plan_id: Any, actor: Actor, reason: str | None = None,
                today: dt.date | None = None, version: Any = None) -> Subscription:
    """Plan changes take effect from the next billing month; the change records that date."""
    sub = get(subscription_id, actor)
    _check_version(sub, version)
    plan = _plan(plan_id)
    if sub.status != "active":
        raise Invalid({"plan_id": _("Only an active line can change plan.")})
    if plan.id == sub.plan_id:
        raise Invalid({"plan_id": _("The line is already on this plan.")})
    effective = first_of_next_month(today or _today())
    before = {"plan": sub.plan.code}
    sub.plan_id = plan.id
    sub.customer.plan_id = plan.id
    _change(sub, "plan_change", before, {"plan": plan.code}, actor, effective, reason)
    audit.record(actor, "update", "subscription", sub.id, {"before": before, "after": {"plan": plan.code}})
    db.session.commit()
    return sub


def set_status(subscription_id: int, status: str, actor: Actor, reason: str | None = None,
               version: Any = None) -> Subscription:
    """Suspend (停机), resume (复机) or terminate (销户) a line."""
    kinds = {"suspended": "suspend", "active": "resume", "terminated": "close"}
    if status not in kinds:
        raise Invalid({"status": _("Not a valid choice: %(value)s.", value=status)})
    sub = get(subscription_id, actor)
    _check_version(sub, version)
    if sub.status == status or sub.status == "terminated":
        raise Invalid({"status": _("The line cannot move from %(old)s to %(new)s.", old=sub.status, new=status)})
    before = {"status": sub.status}
    sub.status = status
    _change(sub, kinds[status], before, {"status": status}, actor, _today(), reason)
    audit.record(actor, "update", "subscription", sub.id, {"before": before, "after": {"status": status}})
    db.session.commit()
    return sub


def subscribe_vas(data: dict[str, Any], actor: Actor) -> SubscriptionVas:
    """Order a value-added service on an active line (订购), from today or a given date."""
    try:
        sub = get(int(data.get("subscription_id") or 0), actor)
    except (TypeError, ValueError):
        raise Invalid({"subscription_id": _("Choose a line.")}) from None
    vas_id = data.get("vas_id")
    vas = db.session.get(ValueAddedService, int(vas_id)) if str(vas_id or "").isdigit() else None
    errors: dict[str, str] = {}
    if vas is None or not vas.active:
        errors["vas_id"] = _("Choose a value-added service that is on sale.")
    if sub.status != "active":
        errors["subscription_id"] = _("Only an active line can order value-added services.")
    try:
        start = check_date(data.get("start_date")) or _today()
        end = check_date(data.get("end_date"))
        if end and end <= start:
            errors["end_date"] = _("End date must be after the start date.")
    except FieldError as exc:
        errors["start_date"] = str(exc)
    if not errors and db.session.execute(select(SubscriptionVas.id).where(
            SubscriptionVas.subscription_id == sub.id, SubscriptionVas.vas_id == vas.id,
            SubscriptionVas.status == "active")).first():
        errors["vas_id"] = _("This line already has this value-added service.")
    if errors:
        raise Invalid(errors)
    item = SubscriptionVas(subscription_id=sub.id, vas_id=vas.id, start_date=start, end_date=end, status="active")
    db.session.add(item)
    db.session.flush()
    _change(sub, "vas_subscribe", None, {"vas": vas.code, "start_date": start.isoformat()}, actor, start)
    audit.record(actor, "create", "subscription_vas", item.id,
                 {"after": {"vas": vas.code, "subscription_id": sub.id}})
    db.session.commit()
    return item


def unsubscribe_vas(item_id: int, actor: Actor, reason: str | None = None, today: dt.date | None = None) -> None:
    """Cancel a value-added service (退订); it ends today and the change is recorded."""
    item = db.session.get(SubscriptionVas, item_id)
    if item is None:
        raise NotFound()
    sub = get(item.subscription_id, actor)
    if item.status != "active":
        raise Invalid({"status": _("This value-added service is already cancelled.")})
    end = today or _today()
    item.status, item.end_date = "cancelled", end
    _change(sub, "vas_unsubscribe", {"vas": item.vas.code}, None, actor, end, reason)
    audit.record(actor, "update", "subscription_vas", item.id, {"after": {"status": "cancelled"}})
    db.session.commit()
