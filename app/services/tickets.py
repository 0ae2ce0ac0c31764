"""Service-desk tickets (工单): creation, the status machine, assignment, timeline and transfers.

Every status change goes through `_move`, which checks `TRANSITIONS` (the one legal-transition
table), writes a `TicketEvent` and calls the SLA hook. Every action writes its timeline event and an
audit entry in the same transaction, then commits. Row rules: `access.scope_tickets` (an Agent
works on their own tickets and their department's unassigned queue; Managers and Admins on all).

Hooks called inside the transaction (owned by other areas): `sla.start/on_status_change/
on_response`, `outbox.enqueue` (acknowledgement, transfer, resolution), `surveys.issue` (resolution).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, union_all
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models.base import utcnow
from app.models.customer import Customer
from app.models.department import Department
from app.models.subscription import Subscription
from app.models.ticket import (
    CHANNELS,
    OPEN_STATUSES,
    PRIORITIES,
    TYPES,
    Ticket,
    TicketDepartmentTime,
    TicketEvent,
    TicketTransfer,
)
from app.models.user import CrmUser
from app.security.access import scope_tickets, sees_all_tickets
from app.services import arrears, audit, customers, outbox, sla, surveys, templates, ticket_routing
from app.services.actor import Actor
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.validation import FieldError, check_choice, check_id, check_text
from app.timefmt import to_local

CHANNEL_CHOICES = [("phone", _l("Phone")), ("email", _l("Email")), ("web", _l("Online form")),
                   ("social", _l("Social media")), ("walk_in", _l("Walk-in"))]
TYPE_CHOICES = [("consultation", _l("Consultation")), ("complaint", _l("Complaint")), ("fault", _l("Fault")),
                ("billing_dispute", _l("Billing dispute")), ("plan_change", _l("Plan change request"))]
PRIORITY_CHOICES = [("low", _l("Low")), ("normal", _l("Normal")), ("high", _l("High")), ("urgent", _l("Urgent"))]
STATUS_CHOICES = [("new", _l("New")), ("assigned", _l("Assigned")), ("in_progress", _l("In progress")),
                  ("waiting_customer", _l("Waiting for customer")), ("transferred", _l("Transferred")),
                  ("resolved", _l("Resolved")), ("closed", _l("Closed out")), ("reopened", _l("Reopened"))]
EVENT_LABELS = {"created": _l("Ticket opened"), "note": _l("Note"), "customer_reply": _l("Customer reply"),
                "status": _l("Status change"), "assign": _l("Assignment"), "transfer": _l("Transfer"),
                "attachment": _l("Attachment"), "complaint": _l("Complaint handling")}

# The one legal-transition table: status → the statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"assigned", "in_progress", "transferred"}),
    "assigned": frozenset({"assigned", "in_progress", "transferred"}),
    "in_progress": frozenset({"assigned", "waiting_customer", "transferred", "resolved"}),
    "waiting_customer": frozenset({"assigned", "in_progress", "transferred", "resolved"}),
    "transferred": frozenset({"assigned", "in_progress", "transferred"}),
    "resolved": frozenset({"closed", "reopened"}),
    "closed": frozenset({"reopened"}),
    "reopened": frozenset({"assigned", "in_progress", "transferred"}),
}
TEXT_LIMIT = 4000


def label(choices: list, value: str | None) -> str:
    return str(dict(choices).get(value, value or ""))


def allowed(old: str, new: str) -> bool:
    return new in TRANSITIONS.get(old, frozenset())


# --- reading ------------------------------------------------------------------------------------

def get(ticket_id: Any, actor: Actor) -> Ticket:
    """The ticket if the actor may see it; NotFound otherwise (never a hint that it exists)."""
    pk = check_id(ticket_id)
    if pk is None:
        raise NotFound()
    ticket = db.session.execute(scope_tickets(select(Ticket).where(Ticket.id == pk), actor)).scalar_one_or_none()
    if ticket is None:
        raise NotFound()
    return ticket


def timeline(ticket: Ticket) -> list[TicketEvent]:
    return list(db.session.execute(
        select(TicketEvent).options(selectinload(TicketEvent.actor), selectinload(TicketEvent.assignee))
        .where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.at, TicketEvent.id)
    ).scalars())


@dataclass
class CustomerPanel:
    customer: Customer
    subscriptions: list[Subscription]
    arrears: arrears.Arrears


def customer_panel(customer_id: int, actor: Actor) -> CustomerPanel:
    """The ticket page's customer box: the customer (within the actor's rows, else NotFound), their
    lines with plans, arrears. Four statements; the full 360 load it replaced ran about twenty for
    the same three facts."""
    from app.services.care import business_date  # care imports services that import this module

    customer = customers.get(customer_id, actor)
    subs = db.session.execute(
        select(Subscription).options(selectinload(Subscription.plan))
        .where(Subscription.customer_id == customer.id).order_by(Subscription.effective_date.desc())
    ).scalars().all()
    return CustomerPanel(customer=customer, subscriptions=list(subs),
                         arrears=arrears.for_customer(customer.id, business_date(utcnow())))


def transfers(ticket: Ticket) -> list[TicketTransfer]:
    return list(db.session.execute(
        select(TicketTransfer).where(TicketTransfer.ticket_id == ticket.id).order_by(TicketTransfer.at)
    ).scalars())


def department_times(ticket: Ticket, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Time spent per department (seconds), the open stay counted up to now, in order of first entry."""
    now = now or utcnow()
    rows = db.session.execute(
        select(TicketDepartmentTime).where(TicketDepartmentTime.ticket_id == ticket.id)
        .order_by(TicketDepartmentTime.entered_at, TicketDepartmentTime.id)
    ).scalars()
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        seconds = row.seconds if row.left_at is not None else int((now - row.entered_at).total_seconds())
        slot = out.setdefault(row.department_id, {"department": row.department, "seconds": 0, "stays": 0})
        slot["seconds"] += max(0, seconds or 0)
        slot["stays"] += 1
    return list(out.values())


# Most urgent first. Every priority a ticket can have (PRIORITIES): the queue reads one branch each.
QUEUE_PRIORITY_ORDER = ("urgent", "high", "normal", "low")
assert set(QUEUE_PRIORITY_ORDER) == set(PRIORITIES), "a priority the queue would never show"
QUEUE_COUNT_CAP = 1000  # the tab badges say "1000+" above this; counting further costs time, tells nothing


def _queue_stmt(actor: Actor, which: str) -> Any:
    stmt = select(Ticket).where(Ticket.status.in_(OPEN_STATUSES))
    if which == "mine":
        stmt = stmt.where(Ticket.assignee_id == (actor.id if actor.id is not None else -1))
    elif which == "unassigned":
        stmt = stmt.where(Ticket.assignee_id.is_(None))
        if not sees_all_tickets(actor):
            stmt = stmt.where(Ticket.department_id == (actor.department_id or -1))
    return scope_tickets(stmt, actor)


def queue(actor: Actor, which: str = "mine", limit: int = 100) -> list[Ticket]:
    """'mine': open tickets assigned to the actor; 'unassigned': open, unassigned tickets of the
    actor's department (all departments for Managers); 'all': every open ticket the actor may see.
    Most urgent first, then oldest first."""
    # One branch per priority, each "oldest first, at most `limit`": every branch is a short scan of
    # ix_ticket_open_queue, where one ORDER BY on a priority rank sorted all of an agent's open
    # tickets (~8,000) for a page of 100. The union holds ≤ 4 × limit ids; one statement picks the page.
    rank = {p: n for n, p in enumerate(QUEUE_PRIORITY_ORDER)}
    branches = [
        select(sub.c.id, sub.c.priority, sub.c.created_at).select_from(sub)
        for sub in (
            _queue_stmt(actor, which).with_only_columns(Ticket.id, Ticket.priority, Ticket.created_at)
            .where(Ticket.priority == priority).order_by(Ticket.created_at, Ticket.id).limit(limit).subquery()
            for priority in QUEUE_PRIORITY_ORDER
        )
    ]
    candidates = union_all(*branches).subquery()
    urgency = case(rank, value=candidates.c.priority, else_=len(rank))
    page = select(candidates.c.id).order_by(urgency, candidates.c.created_at, candidates.c.id).limit(limit)
    rows = db.session.execute(
        select(Ticket).where(Ticket.id.in_(page)).options(
            selectinload(Ticket.customer), selectinload(Ticket.department), selectinload(Ticket.assignee))
    ).scalars()
    return sorted(rows, key=lambda t: (rank.get(t.priority, len(rank)), t.created_at, t.id))


def queue_count(actor: Actor, which: str, cap: int = QUEUE_COUNT_CAP) -> int:
    """How many tickets a queue tab holds, counted up to `cap`."""
    ids = _queue_stmt(actor, which).with_only_columns(Ticket.id).limit(cap).subquery()
    return int(db.session.execute(select(func.count()).select_from(ids)).scalar() or 0)


def customer_tickets(customer_id: int, actor: Actor, limit: int = 20) -> list[Ticket]:
    """The customer's tickets the actor may see, newest first (customer 360)."""
    stmt = scope_tickets(select(Ticket).where(Ticket.customer_id == customer_id), actor)
    return list(db.session.execute(stmt.order_by(Ticket.created_at.desc()).limit(limit)).scalars())


def earlier_tickets(ticket: Ticket, actor: Actor, limit: int = 5) -> list[Ticket]:
    stmt = scope_tickets(select(Ticket).where(Ticket.customer_id == ticket.customer_id, Ticket.id != ticket.id),
                         actor)
    return list(db.session.execute(stmt.order_by(Ticket.created_at.desc()).limit(limit)).scalars())


def assignable_agents(ticket: Ticket) -> list[CrmUser]:
    ids = ticket_routing.agent_ids(ticket.department_id)
    if not ids:
        return []
    return list(db.session.execute(select(CrmUser).where(CrmUser.id.in_(ids)).order_by(CrmUser.username)).scalars())


def departments() -> list[Department]:
    return list(db.session.execute(select(Department).order_by(Department.id)).scalars())


# --- helpers --------------------------------------------------------------------------------------

def _event(ticket: Ticket, kind: str, actor: Actor, at: dt.datetime, **fields: Any) -> TicketEvent:
    event = TicketEvent(ticket_id=ticket.id, kind=kind, at=at, actor_id=actor.id, **fields)
    db.session.add(event)
    return event


def _move(ticket: Ticket, new: str, actor: Actor, at: dt.datetime, body: str | None = None) -> None:
    old = ticket.status
    if not allowed(old, new):
        raise Invalid({"status": _("A ticket cannot go from %(old)s to %(new)s.",
                                   old=label(STATUS_CHOICES, old), new=label(STATUS_CHOICES, new))})
    if old == new:
        return
    ticket.status = new
    _event(ticket, "status", actor, at, from_status=old, to_status=new, body=body)
    sla.on_status_change(ticket, old, new, at)


def _commit() -> None:
    """Commit; a concurrent change of the same ticket (optimistic lock) becomes a Conflict, not a 500."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict() from None


def _check_version(ticket: Ticket, version: Any) -> None:
    if version in (None, ""):
        return
    try:
        expected = int(version)
    except (TypeError, ValueError):
        raise Invalid({"version": _("Must be a whole number.")}) from None
    if expected != ticket.version:
        raise Conflict(current={"status": label(STATUS_CHOICES, ticket.status)})


def _text(data: dict[str, Any], name: str, errors: dict[str, str], *, required: bool = False,
          limit: int = TEXT_LIMIT) -> str | None:
    try:
        return check_text(data.get(name), limit, required=required)
    except FieldError as exc:
        errors[name] = str(exc)
        return None


def _may_work(ticket: Ticket, actor: Actor) -> None:
    """Agents work on their own tickets and take unassigned ones of their department."""
    if sees_all_tickets(actor):
        return
    if ticket.assignee_id is not None and ticket.assignee_id != actor.id:
        raise Forbidden(_("This ticket is assigned to someone else."))


def _enter_department(ticket: Ticket, department_id: int, at: dt.datetime) -> None:
    ticket.department_id = department_id
    ticket.department_since = at
    db.session.add(TicketDepartmentTime(ticket_id=ticket.id, department_id=department_id, entered_at=at))


def _leave_department(ticket: Ticket, at: dt.datetime) -> None:
    stay = db.session.execute(
        select(TicketDepartmentTime).where(TicketDepartmentTime.ticket_id == ticket.id,
                                           TicketDepartmentTime.left_at.is_(None))
        .order_by(TicketDepartmentTime.id.desc()).limit(1)
    ).scalar()
    if stay is not None:
        stay.left_at = at
        stay.seconds = max(0, int((at - stay.entered_at).total_seconds()))


def _responded(ticket: Ticket, at: dt.datetime) -> None:
    if ticket.first_response_at is None:
        ticket.first_response_at = at
        sla.on_response(ticket, at)


def _set_assignee(ticket: Ticket, user_id: int | None, actor: Actor, at: dt.datetime, body: str | None = None) -> None:
    ticket.assignee_id = user_id
    if user_id is not None:
        ticket.assigned_at = at
    _event(ticket, "assign", actor, at, assignee_id=user_id, body=body)


def _message_context(ticket: Ticket, survey_url: str | None = None) -> dict[str, Any]:
    dept = db.session.get(Department, ticket.department_id)
    customer = db.session.get(Customer, ticket.customer_id)
    with force_locale(templates.customer_language(customer)):
        type_label = label(TYPE_CHOICES, ticket.ticket_type)
    context = {
        "ticket_no": ticket.ticket_no,
        "ticket_type": type_label,
        "ticket_type_code": ticket.ticket_type,
        "ticket_subject": ticket.subject,
        "department": dept.name if dept else "",
    }  # a record of the facts when queued; the text is written from the ticket and customer when sent
    if survey_url is not None:
        context["survey_url"] = survey_url
    return context


def _notify(ticket: Ticket, template_code: str, survey_url: str | None = None) -> None:
    outbox.enqueue(customer_id=ticket.customer_id, template_code=template_code,
                   context=_message_context(ticket, survey_url), purpose="service", source="ticket",
                   source_id=ticket.id)


def _auto_assign(ticket: Ticket, actor: Actor, at: dt.datetime) -> None:
    """Hand the ticket to the department's least-loaded agent; none available → it stays in the queue."""
    agent = ticket_routing.least_loaded_agent(ticket.department_id)
    if agent is None:
        return
    _set_assignee(ticket, agent, actor, at, body="auto")
    if ticket.status in ("new", "reopened"):
        _move(ticket, "assigned", actor, at)


# --- actions --------------------------------------------------------------------------------------

def _validate_new(data: dict[str, Any], actor: Actor) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, choices, required in (("channel", CHANNELS, True), ("ticket_type", TYPES, True),
                                    ("priority", PRIORITIES, False)):
        try:
            out[name] = check_choice(data.get(name) or None, choices, required=required)
        except FieldError as exc:
            errors[name] = str(exc)
    out["priority"] = out.get("priority") or "normal"
    out["category"] = _text(data, "category", errors, limit=64)
    out["subject"] = _text(data, "subject", errors, required=True, limit=200)
    out["description"] = _text(data, "description", errors) or ""
    customer_id = check_id(data.get("customer_id", data.get("customer")))
    customer = None
    if customer_id is None:
        errors["customer"] = _("Choose the customer.")
    else:
        try:
            customer = customers.get(customer_id, actor)
        except NotFound:
            errors["customer"] = _("No such customer.")
    out["customer_id"] = customer.id if customer else None
    sub_raw = data.get("subscription_id", data.get("subscription"))
    out["subscription_id"] = None
    if sub_raw not in (None, ""):
        sub_id = check_id(sub_raw)
        sub = db.session.get(Subscription, sub_id) if sub_id else None
        if sub is None or (customer is not None and sub.customer_id != customer.id):
            errors["subscription"] = _("This subscription does not belong to the customer.")
        else:
            out["subscription_id"] = sub.id
    dept_raw = data.get("department_id", data.get("department"))
    out["department_id"] = None
    if dept_raw not in (None, ""):
        dept_id = check_id(dept_raw)
        if dept_id is None or db.session.get(Department, dept_id) is None:
            errors["department"] = _("No such department.")
        else:
            out["department_id"] = dept_id
    if errors:
        raise Invalid(errors)
    return out


def create(data: dict[str, Any], actor: Actor, *, at: dt.datetime | None = None) -> Ticket:
    """Open a ticket: route it (unless a department is given), acknowledge it to the customer, and
    assign it — to the creator when `take` is set and they are an agent of that department, else to
    the department's least-loaded agent."""
    at = at or utcnow()
    values = _validate_new(data, actor)
    routed = ticket_routing.route(values["ticket_type"], values["category"],
                                  f"{values['subject']} {values['description']}", values["priority"])
    department_id = values.pop("department_id") or routed.department_id
    values["priority"] = routed.priority
    ticket = Ticket(ticket_no=f"tmp-{uuid.uuid4().hex[:16]}", status="new", created_by_id=actor.id,
                    department_id=department_id, department_since=at, created_at=at, updated_at=at, **values)
    db.session.add(ticket)
    db.session.flush()
    ticket.ticket_no = f"T{to_local(at):%Y%m%d}{ticket.id:08d}"
    _event(ticket, "created", actor, at, to_status="new", to_department_id=department_id,
           body=f"rule:{routed.rule_id}" if routed.rule_id and department_id == routed.department_id else None)
    db.session.add(TicketDepartmentTime(ticket_id=ticket.id, department_id=department_id, entered_at=at))
    sla.start(ticket, at)
    take = bool(data.get("take")) and actor.id is not None
    if take and (sees_all_tickets(actor) or ticket_routing.is_agent_of(actor.id, department_id)):
        _set_assignee(ticket, actor.id, actor, at)
        _move(ticket, "in_progress", actor, at)
        _responded(ticket, at)
    else:
        _auto_assign(ticket, actor, at)
    _notify(ticket, "ticket_ack")
    audit.record(actor, "create", "ticket", ticket.id,
                 {"ticket_no": ticket.ticket_no, "type": ticket.ticket_type, "channel": ticket.channel,
                  "department_id": department_id, "priority": ticket.priority})
    _commit()
    return ticket


def take(ticket_id: Any, actor: Actor, *, at: dt.datetime | None = None) -> Ticket:
    """The acting agent takes the ticket (from the queue, or one assigned to them) and starts work."""
    at = at or utcnow()
    ticket = get(ticket_id, actor)
    if actor.id is None:
        raise Forbidden()
    if ticket.status not in ("new", "assigned", "transferred", "reopened"):
        raise Invalid({"status": _("Only a new, assigned, transferred or reopened ticket can be taken.")})
    if ticket.assignee_id not in (None, actor.id) and not sees_all_tickets(actor):
        raise Forbidden(_("This ticket is assigned to someone else."))
    if ticket.assignee_id != actor.id:
        _set_assignee(ticket, actor.id, actor, at, body="take")
    _move(ticket, "in_progress", actor, at)
    _responded(ticket, at)
    audit.record(actor, "take", "ticket", ticket.id, {"status": ticket.status})
    _commit()
    return ticket


def assign(ticket_id: Any, assignee_id: Any, actor: Actor, *, at: dt.datetime | None = None) -> Ticket:
    """Manual override by a Manager: give the ticket to an agent of its department."""
    at = at or utcnow()
    if not sees_all_tickets(actor):
        raise Forbidden(_("Only a manager can assign tickets."))
    ticket = get(ticket_id, actor)
    if not ticket.is_open:
        raise Invalid({"status": _("A resolved or closed ticket cannot be assigned.")})
    user_id = check_id(assignee_id)
    if user_id is None or not ticket_routing.is_agent_of(user_id, ticket.department_id):
        raise Invalid({"assignee": _("Choose an active agent of the ticket's department.")})
    if user_id == ticket.assignee_id:
        return ticket
    _set_assignee(ticket, user_id, actor, at, body="manual")
    _move(ticket, "assigned", actor, at)
    audit.record(actor, "assign", "ticket", ticket.id, {"assignee_id": user_id})
    _commit()
    return ticket


def add_note(ticket_id: Any, body: Any, actor: Actor, *, kind: str = "note",
             at: dt.datetime | None = None) -> TicketEvent:
    """A note by the agent, or the customer's reply (which resumes a ticket waiting for the customer)."""
    at = at or utcnow()
    ticket = get(ticket_id, actor)
    if kind not in ("note", "customer_reply"):
        raise Invalid({"kind": _("Not a valid choice: %(value)s.", value=kind)})
    errors: dict[str, str] = {}
    text = _text({"body": body}, "body", errors, required=True)
    if errors:
        raise Invalid(errors)
    _may_work(ticket, actor)
    if ticket.status == "closed":
        raise Invalid({"status": _("A closed ticket takes no more notes; reopen it first.")})
    event = _event(ticket, kind, actor, at, body=text)
    if kind == "customer_reply" and ticket.status == "waiting_customer":
        _move(ticket, "in_progress", actor, at)
    if kind == "note" and ticket.assignee_id == actor.id:
        _responded(ticket, at)
    ticket.updated_at = at
    audit.record(actor, kind, "ticket", ticket.id, {"length": len(text or "")})
    _commit()
    return event


def wait_for_customer(ticket_id: Any, body: Any, actor: Actor, *, at: dt.datetime | None = None) -> Ticket:
    """Ask the customer for something; the SLA clock pauses until they reply."""
    at = at or utcnow()
    ticket = get(ticket_id, actor)
    _may_work(ticket, actor)
    errors: dict[str, str] = {}
    text = _text({"body": body}, "body", errors)
    if errors:
        raise Invalid(errors)
    _move(ticket, "waiting_customer", actor, at, body=text)
    _responded(ticket, at)
    audit.record(actor, "wait_customer", "ticket", ticket.id, {})
    _commit()
    return ticket


def transfer(ticket_id: Any, department_id: Any, note: Any, actor: Actor, *,
             at: dt.datetime | None = None) -> Ticket:
    """Hand the whole ticket to another department with a mandatory hand-over note.

    The ticket keeps its timeline, customer and attachments; the time in the old department is
    closed and a new stay opened; the receiving department's least-loaded agent gets it (or its
    unassigned queue when nobody is available)."""
    at = at or utcnow()
    ticket = get(ticket_id, actor)
    _may_work(ticket, actor)
    errors: dict[str, str] = {}
    text = _text({"note": note}, "note", errors, required=True)
    dept_id = check_id(department_id)
    if dept_id is None or db.session.get(Department, dept_id) is None:
        errors["department"] = _("Choose the department to transfer to.")
    elif dept_id == ticket.department_id:
        errors["department"] = _("The ticket is already in this department.")
    if errors:
        raise Invalid(errors)
    if not allowed(ticket.status, "transferred"):
        raise Invalid({"status": _("A ticket cannot go from %(old)s to %(new)s.",
                                   old=label(STATUS_CHOICES, ticket.status),
                                   new=label(STATUS_CHOICES, "transferred"))})
    old_dept = ticket.department_id
    _leave_department(ticket, at)
    db.session.add(TicketTransfer(ticket_id=ticket.id, from_department_id=old_dept, to_department_id=dept_id,
                                  note=text, at=at, actor_id=actor.id))
    _event(ticket, "transfer", actor, at, from_department_id=old_dept, to_department_id=dept_id, body=text)
    _move(ticket, "transferred", actor, at)
    _enter_department(ticket, dept_id, at)
    ticket.transfer_count = (ticket.transfer_count or 0) + 1
    ticket.assignee_id = None
    db.session.flush()
    _auto_assign(ticket, actor, at)
    _notify(ticket, "ticket_transfer")
    audit.record(actor, "transfer", "ticket", ticket.id, {"from": old_dept, "to": dept_id})
    _commit()
    return ticket


def resolve(ticket_id: Any, data: dict[str, Any], actor: Actor, *, at: dt.datetime | None = None) -> Ticket:
    """Resolve with what solved it; a complaint also needs its handling process and result."""
    at = at or utcnow()
    ticket = get(ticket_id, actor)
    _may_work(ticket, actor)
    errors: dict[str, str] = {}
    resolution = _text(data, "resolution", errors, required=True)
    process = _text(data, "complaint_process", errors, required=ticket.ticket_type == "complaint")
    result = _text(data, "complaint_result", errors, required=ticket.ticket_type == "complaint")
    if ticket.ticket_type == "complaint":
        for name in ("complaint_process", "complaint_result"):
            if name in errors and not data.get(name):
                errors[name] = _("A complaint cannot be resolved without its handling process and result.")
    if errors:
        raise Invalid(errors)
    _move(ticket, "resolved", actor, at, body=resolution)
    ticket.resolution = resolution
    if process or result:
        ticket.complaint_process = process
        ticket.complaint_result = result
        _event(ticket, "complaint", actor, at, body=f"{process or ''}\n---\n{result or ''}")
    ticket.resolved_at = at
    if ticket.assignee_id is None and actor.id is not None:
        ticket.assignee_id = actor.id
    _responded(ticket, at)
    _leave_department(ticket, at)
    survey = surveys.issue("ticket", ticket.id, ticket.customer_id)
    _notify(ticket, "ticket_resolved", survey_url=getattr(survey, "url", None) or "")
    audit.record(actor, "resolve", "ticket", ticket.id, {"type": ticket.ticket_type})
    _commit()
    return ticket


def close(ticket_id: Any, actor: Actor, *, at: dt.datetime | None = None) -> Ticket:
    at = at or utcnow()
    ticket = get(ticket_id, actor)
    _may_work(ticket, actor)
    _move(ticket, "closed", actor, at)
    ticket.closed_at = at
    audit.record(actor, "close", "ticket", ticket.id, {})
    _commit()
    return ticket


def reopen(ticket_id: Any, reason: Any, actor: Actor, *, at: dt.datetime | None = None) -> Ticket:
    """The customer is not satisfied: back to work in the same department, clocks restarted."""
    at = at or utcnow()
    ticket = get(ticket_id, actor)
    _may_work(ticket, actor)
    errors: dict[str, str] = {}
    text = _text({"reason": reason}, "reason", errors, required=True)
    if errors:
        raise Invalid(errors)
    _move(ticket, "reopened", actor, at, body=text)
    ticket.reopen_count = (ticket.reopen_count or 0) + 1
    ticket.resolved_at = None
    ticket.closed_at = None
    _enter_department(ticket, ticket.department_id, at)
    sla.start(ticket, at)
    if ticket.assignee_id is None or not ticket_routing.is_agent_of(ticket.assignee_id, ticket.department_id):
        ticket.assignee_id = None  # the last handler left the department: the least-loaded agent takes over
        _auto_assign(ticket, actor, at)
    audit.record(actor, "reopen", "ticket", ticket.id, {})
    _commit()
    return ticket


def transition(ticket_id: Any, data: dict[str, Any], actor: Actor) -> Ticket:
    """One entry point for the API: {"status": <target>, ...the fields that action needs}."""
    if not isinstance(data, dict):
        raise Invalid({"status": _("This field is required.")})
    target = data.get("status")
    try:
        check_choice(target, tuple(s for s, _label in STATUS_CHOICES))
    except FieldError as exc:
        raise Invalid({"status": str(exc)}) from None
    ticket = get(ticket_id, actor)
    _check_version(ticket, data.get("version"))
    if not allowed(ticket.status, target):
        raise Invalid({"status": _("A ticket cannot go from %(old)s to %(new)s.",
                                   old=label(STATUS_CHOICES, ticket.status), new=label(STATUS_CHOICES, target))})
    if target == "in_progress":
        if ticket.status == "waiting_customer":
            add_note(ticket.id, data.get("body") or _("The customer replied."), actor, kind="customer_reply")
            return get(ticket.id, actor)
        return take(ticket.id, actor)
    if target == "assigned":
        return assign(ticket.id, data.get("assignee_id"), actor)
    if target == "waiting_customer":
        return wait_for_customer(ticket.id, data.get("body"), actor)
    if target == "transferred":
        return transfer(ticket.id, data.get("department_id"), data.get("note"), actor)
    if target == "resolved":
        return resolve(ticket.id, data, actor)
    if target == "closed":
        return close(ticket.id, actor)
    if target == "reopened":
        return reopen(ticket.id, data.get("reason"), actor)
    raise Invalid({"status": _("Not a valid choice: %(value)s.", value=target)})


def customer_summary(customer_id: int, actor: Actor, limit: int = 10) -> dict[str, Any]:
    """Customer 360: the customer's tickets the actor may see (each with its CSAT score when the
    customer answered the survey), plus counts over all their tickets and their average CSAT."""
    from sqlalchemy import func

    rows = customer_tickets(customer_id, actor, limit)
    scores = _csat_scores([t.id for t in rows])
    total, complaints, open_count = db.session.execute(
        select(func.count(), func.count().filter(Ticket.ticket_type == "complaint"),
               func.count().filter(Ticket.status.in_(OPEN_STATUSES)))
        .where(Ticket.customer_id == customer_id)
    ).one()
    return {"rows": [{"ticket": t, "csat": scores.get(t.id), "status": label(STATUS_CHOICES, t.status),
                      "type": label(TYPE_CHOICES, t.ticket_type)} for t in rows], "total": total,
            "complaints": complaints, "open": open_count, "csat_avg": _csat_average(customer_id)}


def _csat_scores(ticket_ids: list[int]) -> dict[int, int]:
    """Latest survey score per ticket (hook: the survey area's `surveys.scores_for`)."""
    finder = getattr(surveys, "scores_for", None)
    return finder("ticket", ticket_ids) if finder and ticket_ids else {}


def _csat_average(customer_id: int) -> float | None:
    """Average answered ticket-survey score of the customer, when the survey area exists."""
    try:
        from sqlalchemy import func

        from app.models.survey import Survey
    except ImportError:
        return None
    avg = db.session.execute(
        select(func.avg(Survey.score)).where(Survey.subject_type == "ticket", Survey.customer_id == customer_id,
                                             Survey.answered_at.is_not(None))
    ).scalar()
    return round(float(avg), 1) if avg is not None else None
