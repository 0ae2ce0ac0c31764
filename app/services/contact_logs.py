"""Contact logs (跟进记录) on a lead, an opportunity or a customer; a next contact date becomes a
follow-up task in the shared care task table, so it shows under "My follow-ups"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.care import CareTask
from app.models.contact_log import CONTACT_METHODS, ContactLog
from app.security.access import scope_sales
from app.services import audit, customers, leads, opportunities
from app.services.actor import Actor
from app.services.errors import Conflict, Invalid, NotFound
from app.services.sales import with_ids
from app.services.validation import FieldError, check_choice, check_date, check_id, check_text, check_version

TARGETS = ("lead_id", "opportunity_id", "customer_id")
EDITABLE = ("method", "content", "feedback", "next_step")


def get(log_id: Any, actor: Actor) -> ContactLog:
    pk = check_id(log_id)
    if pk is None:
        raise NotFound()
    log = db.session.execute(scope_sales(select(ContactLog).where(ContactLog.id == pk), actor, ContactLog)
                             ).scalar_one_or_none()
    if log is None:
        raise NotFound()
    return log


def _contacted_at(value: Any) -> dt.datetime:
    if value in (None, ""):
        return utcnow()
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise FieldError(_("Time must be in the form YYYY-MM-DD HH:MM.")) from None


def create(data: dict[str, Any], actor: Actor, today: dt.date | None = None) -> ContactLog:
    from app.services.care import business_date

    today = today or business_date(utcnow())
    data = with_ids(data)
    errors: dict[str, str] = {}
    given = [t for t in TARGETS if data.get(t) not in (None, "")]
    lead = opp = customer = None
    if len(given) != 1:
        errors["lead_id"] = _("Log the contact on exactly one lead, opportunity or customer.")
    else:
        target = given[0]
        try:
            if target == "lead_id":
                lead = leads.get(data[target], actor)
            elif target == "opportunity_id":
                opp = opportunities.get(data[target], actor)
            else:
                customer = customers.get(data[target], actor)
        except NotFound:
            errors[target] = _("Not a valid choice: %(value)s.", value=data[target])
    values: dict[str, Any] = {}
    for field, fn in (("method", lambda v: check_choice(v, CONTACT_METHODS)),
                      ("content", lambda v: check_text(v, 4000, required=True)),
                      ("feedback", lambda v: check_text(v, 4000)),
                      ("next_step", lambda v: check_text(v, 255)),
                      ("next_contact_date", check_date),
                      ("contacted_at", _contacted_at)):
        try:
            values[field] = fn(data.get(field))
        except FieldError as exc:
            errors[field] = str(exc)
    if values.get("next_contact_date") and values["next_contact_date"] < today:
        errors["next_contact_date"] = _("The next contact date cannot be in the past.")
    if errors:
        raise Invalid(errors)
    log = ContactLog(lead_id=lead.id if lead else None, opportunity_id=opp.id if opp else None,
                     customer_id=customer.id if customer else (opp.customer_id if opp else None),
                     owner_id=actor.id, **values)
    db.session.add(log)
    db.session.flush()
    if lead is not None:
        leads.touch(lead, log.contacted_at)
    if log.next_contact_date:
        log.follow_up_task_id = _follow_up(log, lead, opp, customer, actor).id
    audit.record(actor, "create", "contact_log", log.id, {"after": {
        "target": given[0], "target_id": lead.id if lead else opp.id if opp else customer.id,
        "method": log.method, "next_contact_date": log.next_contact_date}})
    db.session.commit()
    return log


def _follow_up(log: ContactLog, lead: Any, opp: Any, customer: Any, actor: Actor) -> CareTask:
    if lead is not None:
        source, source_id, name = "lead", lead.id, lead.name
    elif opp is not None:
        source, source_id, name = "opportunity", opp.id, opp.name
    else:
        source, source_id, name = "customer", customer.id, customer.name
    title = _("Follow up with %(name)s", name=name)
    if log.next_step:
        title = f"{title}: {log.next_step}"
    now = utcnow()
    task = CareTask(rule_id=None, customer_id=log.customer_id, source_type=source, source_id=source_id,
                    title=title[:255], occurrence_key=f"contact_log:{log.id}", due_date=log.next_contact_date,
                    assignee_id=actor.id, status="open", priority="normal", attempts=0,
                    created_at=now, updated_at=now)
    db.session.add(task)
    db.session.flush()
    return task


def update(log_id: Any, data: dict[str, Any], actor: Actor, version: Any = None) -> ContactLog:
    log = get(log_id, actor)
    if check_version(version) not in (None, log.version):  # edited elsewhere since it was opened
        raise Conflict(current={k: str(getattr(log, k) or "") for k in EDITABLE if k in data})
    errors: dict[str, str] = {}
    changed: dict[str, Any] = {}
    specs = {"method": lambda v: check_choice(v, CONTACT_METHODS),
             "content": lambda v: check_text(v, 4000, required=True),
             "feedback": lambda v: check_text(v, 4000), "next_step": lambda v: check_text(v, 255)}
    for field in (f for f in EDITABLE if f in data):
        try:
            value = specs[field](data[field])
        except FieldError as exc:
            errors[field] = str(exc)
            continue
        if getattr(log, field) != value:
            changed[field] = value
    for field in data:
        if field not in EDITABLE and field not in ("version",):
            errors.setdefault(field, _("This field cannot be changed after the contact is logged."))
    if errors:
        raise Invalid(errors)
    for k, v in changed.items():
        setattr(log, k, v)
    if changed:
        audit.record(actor, "update", "contact_log", log.id, {"after": changed})
    db.session.commit()
    return log


def for_target(actor: Actor, *, lead_id: int | None = None, opportunity_id: int | None = None,
               customer_id: int | None = None, limit: int = 50) -> list[ContactLog]:
    stmt = select(ContactLog)
    if lead_id is not None:
        stmt = stmt.where(ContactLog.lead_id == lead_id)
    elif opportunity_id is not None:
        stmt = stmt.where(ContactLog.opportunity_id == opportunity_id)
    else:
        stmt = stmt.where(ContactLog.customer_id == customer_id)
    stmt = scope_sales(stmt, actor, ContactLog).order_by(ContactLog.contacted_at.desc(), ContactLog.id.desc())
    return list(db.session.execute(stmt.limit(limit)).scalars())


CONTACT_LOG_LABELS = {
    "id": _l("No."), "lead": _l("Lead"), "opportunity": _l("Opportunity"), "customer": _l("Customer"),
    "contacted_at": _l("Contacted at"), "method": _l("Method"), "method_label": _l("Method"),
    "content": _l("Content"), "feedback": _l("Customer feedback"), "next_step": _l("Next step"),
    "next_contact_date": _l("Next contact date"), "owner": _l("Logged by"),
    "follow_up_task": _l("Follow-up task"), "created_at": _l("Created at"),
}
