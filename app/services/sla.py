"""Service-level clocks of tickets (issue 4, point 5).

The ticket service calls the hooks `start`, `on_status_change` and `on_response` inside its own
transaction; they never commit. Each ticket has one `TicketSla` row with its response and
resolution due times. While the ticket waits for the customer the clocks are paused: on resuming,
every due and warning time moves forward by the time spent waiting.

`check(now)` is the minute job: it marks warnings (at the policy's `warn_percent` of a target) and
breaches with set-based `UPDATE … WHERE <mark> IS NULL`, then escalates each breach not yet
escalated — again guarded by `WHERE <kind>_escalated_at IS NULL`, in the same transaction as the
escalation event on the ticket's timeline — so a breach is escalated exactly once, whatever the
number of runs, restarts or runners.

Escalation target: the department model has no lead, so a breach goes to a user with the Manager
role — one of the ticket's department if there is one, else the first Manager — recorded in
`escalated_to_id` and on the timeline event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select, update

from app.extensions import db
from app.models.base import utcnow
from app.models.sla import SlaPolicy, TicketSla
from app.models.ticket import TicketEvent

PAUSE_STATUSES = ("waiting_customer",)
STOP_STATUSES = ("resolved", "closed")
# A move to these statuses means an agent has answered the customer.
RESPONSE_STATUSES = ("waiting_customer", "resolved", "closed")
CLOCKS = ("response", "resolve")

# Timeline texts (English msgids; the ticket page shows them translated).
ESCALATION_TEXT = {
    "response": _l("First-response target breached: escalated to the department lead."),
    "resolve": _l("Resolution target breached: escalated to the department lead."),
}


# --- clock arithmetic ------------------------------------------------------------------------


def warn_offset(minutes: int, percent: int) -> dt.timedelta:
    return dt.timedelta(seconds=minutes * 60 * percent // 100)


def _targets(ticket: Any) -> tuple[SlaPolicy | None, int, int, int]:
    from app.services.sla_policies import default_targets

    policy = db.session.execute(
        select(SlaPolicy).where(SlaPolicy.ticket_type == ticket.ticket_type, SlaPolicy.priority == ticket.priority)
    ).scalar()
    if policy is not None:
        return policy, policy.response_minutes, policy.resolve_minutes, policy.warn_percent
    response, resolve = default_targets(ticket.ticket_type, ticket.priority)
    return None, response, resolve, 80


def _row(ticket: Any) -> TicketSla | None:
    if ticket.id is None:
        db.session.flush()
    return db.session.execute(select(TicketSla).where(TicketSla.ticket_id == ticket.id)).scalar()


def _set_resolve_clock(row: TicketSla, at: dt.datetime, percent: int) -> None:
    row.resolve_warn_at = at + warn_offset(row.resolve_minutes, percent)
    row.resolve_due = at + dt.timedelta(minutes=row.resolve_minutes)


def start(ticket: Any, at: dt.datetime) -> None:
    """A ticket was created (or reopened): start its response and resolution clocks."""
    row = _row(ticket)
    policy, response, resolve, percent = _targets(ticket)
    if row is None:
        row = TicketSla(ticket_id=ticket.id, ticket_type=ticket.ticket_type, policy_id=policy.id if policy else None,
                        response_minutes=response,
                        resolve_minutes=resolve, started_at=at, paused_seconds=0, resolve_breaches=0,
                        response_warn_at=at + warn_offset(response, percent),
                        response_due=at + dt.timedelta(minutes=response))
        _set_resolve_clock(row, at, percent)
        db.session.add(row)
        if ticket.status in PAUSE_STATUSES:
            row.paused_since = at
        return
    _restart(row, at, percent)


def _restart(row: TicketSla, at: dt.datetime, percent: int) -> None:
    """A reopened ticket gets a fresh resolution clock (a new breach may then be escalated once)."""
    if row.stopped_at is None:
        return
    row.stopped_at = None
    row.paused_since = None
    _set_resolve_clock(row, at, percent)
    row.resolve_warned_at = row.resolve_breached_at = row.resolve_escalated_at = None


def _resume(row: TicketSla, at: dt.datetime) -> None:
    if row.paused_since is None:
        return
    waited = max(at - row.paused_since, dt.timedelta(0))
    row.paused_seconds = (row.paused_seconds or 0) + int(waited.total_seconds())
    row.response_warn_at += waited
    row.response_due += waited
    row.resolve_warn_at += waited
    row.resolve_due += waited
    row.paused_since = None


def on_status_change(ticket: Any, old: str | None, new: str, at: dt.datetime) -> None:
    """Pause the clocks while waiting for the customer, resume after, stop on resolve/close."""
    row = _row(ticket)
    if row is None:
        start(ticket, at)
        row = _row(ticket)
    if new == "reopened" or (old in STOP_STATUSES and new not in STOP_STATUSES):
        _, _r, _s, percent = _targets(ticket)
        _restart(row, at, percent)
    if new in RESPONSE_STATUSES and row.responded_at is None:
        row.responded_at = at
    if new in PAUSE_STATUSES:
        if row.paused_since is None and row.stopped_at is None:
            row.paused_since = at
        return
    _resume(row, at)
    if new in STOP_STATUSES and row.stopped_at is None:
        row.stopped_at = at


def on_response(ticket: Any, at: dt.datetime) -> None:
    """The first agent action that counts as a response to the customer."""
    row = _row(ticket)
    if row is None:
        start(ticket, at)
        row = _row(ticket)
    if row.responded_at is None:
        row.responded_at = at


# --- what a ticket page shows ----------------------------------------------------------------


@dataclass
class SlaState:
    response_due: dt.datetime
    resolve_due: dt.datetime
    responded_at: dt.datetime | None
    stopped_at: dt.datetime | None
    paused: bool
    paused_seconds: int
    warned: bool
    breached: bool
    escalated: bool
    escalated_to: str | None
    state: str  # "ok", "warning", "breached", "paused", "met", "missed"
    response_met: bool | None
    resolve_met: bool | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def for_ticket(ticket_id: int, now: dt.datetime | None = None) -> SlaState | None:
    """The ticket's SLA for its page (due times include a pause in progress), or None."""
    row = db.session.execute(select(TicketSla).where(TicketSla.ticket_id == ticket_id)).scalar()
    if row is None:
        return None
    now = now or utcnow()
    live = max(now - row.paused_since, dt.timedelta(0)) if row.paused_since else dt.timedelta(0)
    response_due, resolve_due = row.response_due + live, row.resolve_due + live
    warned = bool(row.response_warned_at or row.resolve_warned_at)
    breached = bool(row.response_breached_at or row.resolve_breached_at)
    response_met = None if row.responded_at is None else row.responded_at <= response_due
    resolve_met = None if row.stopped_at is None else row.stopped_at <= resolve_due
    if row.stopped_at is not None:
        state = "met" if resolve_met and response_met is not False and not breached else "missed"
    elif row.paused_since is not None:
        state = "paused"
    elif breached:
        state = "breached"
    elif warned:
        state = "warning"
    else:
        state = "ok"
    escalated_to = None
    if row.escalated_to_id:
        from app.models.user import CrmUser

        user = db.session.get(CrmUser, row.escalated_to_id)
        escalated_to = user.username if user else None
    return SlaState(response_due, resolve_due, row.responded_at, row.stopped_at, row.paused_since is not None,
                    row.paused_seconds, warned, breached,
                    bool(row.response_escalated_at or row.resolve_escalated_at), escalated_to, state,
                    response_met, resolve_met)


# --- the minute job --------------------------------------------------------------------------


@dataclass
class CheckResult:
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _running(kind: str) -> Any:
    """Clocks that are running: not stopped, not paused, and (response) not yet answered."""
    cond = [TicketSla.stopped_at.is_(None), TicketSla.paused_since.is_(None)]
    if kind == "response":
        cond.append(TicketSla.responded_at.is_(None))
    return and_(*cond)


def _col(kind: str, what: str) -> Any:
    return getattr(TicketSla, f"{kind}_{what}")


def _mark(kind: str, now: dt.datetime) -> tuple[int, int]:
    warned = db.session.execute(
        update(TicketSla).where(_running(kind), _col(kind, "warned_at").is_(None), _col(kind, "warn_at") <= now)
        .values({f"{kind}_warned_at": now}).execution_options(synchronize_session=False)
    ).rowcount
    due = TicketSla.response_due if kind == "response" else TicketSla.resolve_due
    values: dict[str, Any] = {f"{kind}_breached_at": now}
    if kind == "resolve":
        values["resolve_breaches"] = TicketSla.resolve_breaches + 1
    breached = db.session.execute(
        update(TicketSla).where(_running(kind), _col(kind, "breached_at").is_(None), due <= now)
        .values(values).execution_options(synchronize_session=False)
    ).rowcount
    return warned, breached


def escalation_target(department_id: int | None) -> int | None:
    """The department's lead: a Manager of that department, else the first Manager (lowest id)."""
    from flask_appbuilder.security.sqla.models import Role, assoc_user_role

    from app.models.user import CrmUser

    stmt = (select(CrmUser.id).join(assoc_user_role, assoc_user_role.c.user_id == CrmUser.id)
            .join(Role, Role.id == assoc_user_role.c.role_id)
            .where(Role.name == "Manager", CrmUser.active.is_(True)))
    if department_id is not None:
        own = db.session.execute(stmt.where(CrmUser.department_id == department_id).order_by(CrmUser.id)).scalar()
        if own is not None:
            return own
    return db.session.execute(stmt.order_by(CrmUser.id)).scalar()


def _escalate(kind: str, now: dt.datetime) -> int:
    from app.models.ticket import Ticket

    pending = db.session.execute(
        select(TicketSla.id, TicketSla.ticket_id, Ticket.department_id)
        .join(Ticket, Ticket.id == TicketSla.ticket_id)
        .where(_col(kind, "breached_at").is_not(None), _col(kind, "escalated_at").is_(None))
        .order_by(TicketSla.id)
    ).all()
    done = 0
    targets: dict[int | None, int | None] = {}
    for sla_id, ticket_id, department_id in pending:
        if department_id not in targets:
            targets[department_id] = escalation_target(department_id)
        lead = targets[department_id]
        won = db.session.execute(
            update(TicketSla).where(TicketSla.id == sla_id, _col(kind, "escalated_at").is_(None))
            .values({f"{kind}_escalated_at": now, "escalated_to_id": lead})
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            continue
        with force_locale("en"):  # stored as the msgid; the timeline shows it translated
            body = str(ESCALATION_TEXT[kind])
        db.session.add(TicketEvent(ticket_id=ticket_id, kind="escalation", at=now, actor_id=None,
                                   assignee_id=lead, body=body))
        done += 1
    return done


def check(now: dt.datetime | None = None) -> CheckResult:
    """Mark warnings and breaches due at `now`, escalate each new breach once; commits."""
    now = now or utcnow()
    result = CheckResult()
    try:
        for kind in CLOCKS:
            warned, breached = _mark(kind, now)
            result.warnings += warned
            result.breaches += breached
        for kind in CLOCKS:
            result.escalations += _escalate(kind, now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result
