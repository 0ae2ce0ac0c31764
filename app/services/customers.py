"""Customer records: validation, create/update with history and audit, look-up, reveal."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models.business_change import BusinessChange
from app.models.customer import GENDERS, SEGMENTS, STATUSES, Customer
from app.security.access import scope_customers
from app.services import audit
from app.services.actor import Actor
from app.services.crypto import cipher
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.masking import is_masked, mask_id_number, mask_mobile
from app.services.validation import (
    FieldError,
    check_bool,
    check_choice,
    check_date,
    check_email,
    check_id,
    check_id_number,
    check_landline,
    check_language,
    check_mobile,
    check_name,
    check_text,
    id_birth_date,
    id_gender,
    mobile_carrier,
)
from app.timefmt import business_today

# Fields a form or API may write; `id_number` is virtual (encrypted into three columns).
EDITABLE = (
    "name", "gender", "birth_date", "id_number", "mobile", "landline", "email", "address",
    "city", "segment", "status", "owner_id", "department_id", "consent_marketing",
    "consent_analytics", "language",
)
PII_FIELDS = ("id_number", "mobile")
REVEAL_PERMISSION = "can_reveal"


def _clean(data: dict[str, Any], existing: Customer | None) -> dict[str, Any]:
    """Validate every given field, uniqueness included; all errors are reported at once."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    def run(field: str, fn: Any) -> None:
        if field not in data:
            return
        try:
            out[field] = fn(data[field])
        except FieldError as exc:
            errors[field] = str(exc)

    creating = existing is None
    if creating:
        for required in ("name", "id_number", "mobile"):
            if data.get(required) in (None, ""):
                errors[required] = _("This field is required.")
    # A masked value sent back (from a masked form or API read) never overwrites the stored one.
    for field in PII_FIELDS:
        if field in data and is_masked(data[field]):
            if creating:
                errors[field] = _("Enter the full value, not a masked one.")
            data = {k: v for k, v in data.items() if k != field}
    run("name", check_name)
    run("id_number", check_id_number)
    run("mobile", check_mobile)
    run("landline", check_landline)
    run("email", check_email)
    run("gender", lambda v: check_choice(v, GENDERS, required=False))
    run("birth_date", check_date)
    run("address", lambda v: check_text(v, 255))
    run("city", lambda v: check_text(v, 32))
    run("segment", lambda v: check_choice(v or "ordinary", SEGMENTS))
    run("status", lambda v: check_choice(v or "active", STATUSES))
    run("language", lambda v: check_language(v) or "zh")  # blank: the default language
    for field in ("consent_marketing", "consent_analytics"):
        if field in data:
            out[field] = check_bool(data[field])
    for field in ("owner_id", "department_id"):
        if field in data:
            try:
                out[field] = int(data[field]) if data[field] not in (None, "") else None
            except (TypeError, ValueError):
                errors[field] = _("Not a valid choice: %(value)s.", value=data[field])

    # Birth date and gender must agree with the resident ID; derive them when blank.
    id_number = out.get("id_number")
    if id_number is None and existing is not None and ("birth_date" in out or "gender" in out):
        id_number = reveal_value(existing)
    if id_number and "id_number" not in errors:
        born, sex = id_birth_date(id_number), id_gender(id_number)
        given_birth = out.get("birth_date") if "birth_date" in out else None
        given_gender = out.get("gender") if "gender" in out else None
        if given_birth and given_birth != born:
            errors["birth_date"] = _("Birth date does not match the resident ID number (%(date)s).",
                                     date=born.isoformat())
        if given_gender and given_gender != sex:
            errors["gender"] = _("Gender does not match the resident ID number.")
        if "id_number" in out or not given_birth:
            out["birth_date"] = born
        if "id_number" in out or not given_gender:
            out["gender"] = sex
    unique_errors, related = _unique_errors(out, existing.id if existing is not None else None)
    for field, message in unique_errors.items():
        errors.setdefault(field, message)
    if errors:
        raise Invalid(errors, related=related)
    return out


def _unique_errors(values: dict[str, Any], exclude_id: int | None) -> tuple[dict[str, str], dict[str, int]]:
    """Duplicate ID number or mobile, named with the existing customer (not a database error)."""
    errors: dict[str, str] = {}
    related: dict[str, int] = {}
    if "id_number" in values:
        bidx = cipher().blind_index(values["id_number"])
        other = db.session.execute(
            select(Customer.id, Customer.name).where(Customer.id_number_bidx == bidx)).first()
        if other and other.id != exclude_id:
            errors["id_number"] = _("This resident ID number already belongs to customer %(name)s (#%(id)d).",
                                    name=other.name, id=other.id)
            related["id_number"] = other.id
    if "mobile" in values:
        other = db.session.execute(
            select(Customer.id, Customer.name).where(Customer.mobile == values["mobile"])).first()
        if other and other.id != exclude_id:
            errors["mobile"] = _("This mobile number already belongs to customer %(name)s (#%(id)d).",
                                 name=other.name, id=other.id)
            related["mobile"] = other.id
    return errors, related


def _apply(customer: Customer, values: dict[str, Any]) -> None:
    for field, value in values.items():
        if field == "id_number":
            set_id_number(customer, value)
        elif field == "mobile":
            customer.mobile = value
            customer.carrier = mobile_carrier(value)
        else:
            setattr(customer, field, value)


def set_id_number(customer: Customer, id_number: str) -> None:
    c = cipher()
    customer.id_number_enc = c.encrypt(id_number, b"customer.id_number")
    customer.id_number_bidx = c.blind_index(id_number)
    customer.id_number_masked = mask_id_number(id_number)


def reveal_value(customer: Customer) -> str:
    return cipher().decrypt(customer.id_number_enc, b"customer.id_number")


def _display(field: str, value: Any) -> Any:
    """Values as they may appear in history and audit: PII masked, dates as ISO text."""
    if field == "id_number":
        return mask_id_number(value)
    if field == "mobile":
        return mask_mobile(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _snapshot(customer: Customer, fields: list[str]) -> dict[str, Any]:
    snap = {}
    for field in fields:
        if field == "id_number":
            snap[field] = customer.id_number_masked
        else:
            snap[field] = _display(field, getattr(customer, field))
    return snap


def get(customer_id: int, actor: Actor) -> Customer:
    """The customer if the actor may see it; otherwise NotFound (never a hint that it exists)."""
    if check_id(customer_id) is None:
        raise NotFound()  # an id no row can have (e.g. beyond 32 bits) must not reach the database
    stmt = scope_customers(select(Customer).where(Customer.id == customer_id), actor)
    customer = db.session.execute(stmt).scalar_one_or_none()
    if customer is None:
        raise NotFound()
    return customer


def create(data: dict[str, Any], actor: Actor) -> Customer:
    values = _clean(dict(data), None)
    if actor.has_role("Sales") and not actor.has_role("Admin", "Manager", "Clerk"):
        values["owner_id"] = actor.id  # a salesperson's new customer is their own
    customer = Customer()
    _apply(customer, values)
    db.session.add(customer)
    db.session.flush()
    after = _snapshot(customer, [f for f in EDITABLE if f in values])
    audit.record(actor, "create", "customer", customer.id, {"after": after})
    db.session.commit()
    return customer


def update(customer_id: int, data: dict[str, Any], actor: Actor, version: int | None = None) -> Customer:
    """Apply changed fields. `version` is what the editor loaded: a stale one is a Conflict."""
    customer = get(customer_id, actor)
    version = _version(version)
    if version is not None and version != customer.version:
        current = _snapshot(customer, [f for f in EDITABLE if f in data])
        raise Conflict(current=current)
    values = _clean({k: v for k, v in data.items() if k in EDITABLE}, customer)
    reassigning = "owner_id" in values and values["owner_id"] != customer.owner_id
    if reassigning and actor.has_role("Sales") and not actor.has_role("Admin", "Manager"):
        raise Forbidden(_("Only a manager can reassign a customer's owner."))
    changed = {}
    for field, value in values.items():
        old = customer.id_number_bidx if field == "id_number" else getattr(customer, field)
        new = cipher().blind_index(value) if field == "id_number" else value
        if old != new:
            changed[field] = value
    if not changed:
        return customer
    before = _snapshot(customer, list(changed))
    _apply(customer, changed)
    after = _snapshot(customer, list(changed))
    db.session.add(BusinessChange(
        customer_id=customer.id,
        change_type="profile_update",
        before=json.dumps(before, ensure_ascii=False),
        after=json.dumps(after, ensure_ascii=False),
        effective_date=business_today(),
        operator_id=actor.id,
    ))
    audit.record(actor, "update", "customer", customer.id, {"before": before, "after": after})
    db.session.commit()
    return customer


def _version(value: Any) -> int | None:
    """The version the editor loaded; junk (an API client's `"version": "abc"`) is a field error."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Invalid({"version": _("Not a valid version: %(value)s.", value=value)}) from None


def delete(customer_id: int, actor: Actor) -> None:
    """Hard delete only a customer with no business history; otherwise close them instead."""
    customer = get(customer_id, actor)
    from app.models.subscription import Subscription

    has_history = db.session.execute(
        select(Subscription.id).where(Subscription.customer_id == customer.id).limit(1)
    ).first()
    if has_history:
        raise Invalid({"status": _("This customer has subscriptions; close the account instead of deleting it.")})
    db.session.execute(BusinessChange.__table__.delete().where(BusinessChange.customer_id == customer.id))
    before = _snapshot(customer, ["name", "mobile", "id_number", "status"])
    db.session.delete(customer)
    audit.record(actor, "delete", "customer", customer_id, {"before": before})
    db.session.commit()


def reveal(customer_id: int, actor: Actor) -> dict[str, str]:
    """Full ID number and mobile of one customer, for a role holding the reveal permission."""
    if not actor.can(REVEAL_PERMISSION):
        raise Forbidden(_("Your role may not reveal personal data."))
    customer = get(customer_id, actor)
    audit.record(actor, "reveal", "customer", customer.id, {"fields": list(PII_FIELDS)})
    db.session.commit()
    return {"id_number": reveal_value(customer), "mobile": customer.mobile}


def find_by_id_number(id_number: str, actor: Actor) -> Customer | None:
    try:
        normalised = check_id_number(id_number)
    except FieldError:
        return None
    stmt = scope_customers(select(Customer).where(Customer.id_number_bidx == cipher().blind_index(normalised)), actor)
    return db.session.execute(stmt).scalar_one_or_none()
