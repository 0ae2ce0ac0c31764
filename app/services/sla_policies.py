"""SLA policies: targets per ticket type × priority, the shipped defaults, and edits with audit.

A changed policy applies to tickets started (or reopened) after the change; running clocks keep
the targets they started with (copied onto `ticket_sla`).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models.sla import SlaPolicy, TicketSla
from app.models.ticket import PRIORITIES, TYPES
from app.services import audit
from app.services.actor import SYSTEM, Actor
from app.services.errors import Conflict, Invalid, NotFound
from app.services.validation import FieldError, check_choice, check_int

FIELDS = ("ticket_type", "priority", "response_minutes", "resolve_minutes", "warn_percent")
MAX_MINUTES = 60 * 24 * 90  # 90 days

# Shipped targets (minutes): first response by priority; resolution by type, scaled by priority.
RESPONSE_BY_PRIORITY = {"urgent": 15, "high": 30, "normal": 60, "low": 240}
RESOLVE_BY_TYPE = {"consultation": 8 * 60, "complaint": 48 * 60, "fault": 24 * 60,
                   "billing_dispute": 72 * 60, "plan_change": 24 * 60}
PRIORITY_FACTOR = {"urgent": 0.25, "high": 0.5, "normal": 1.0, "low": 2.0}


def default_targets(ticket_type: str, priority: str) -> tuple[int, int]:
    """(response, resolution) minutes shipped for a type and priority (also the fallback)."""
    response = RESPONSE_BY_PRIORITY.get(priority, 60)
    resolve = int(RESOLVE_BY_TYPE.get(ticket_type, 24 * 60) * PRIORITY_FACTOR.get(priority, 1.0))
    return response, max(resolve, response)


def ensure_defaults(actor: Actor = SYSTEM) -> int:
    """Create the shipped policy of every type × priority that has none; never changes one."""
    existing = set(db.session.execute(select(SlaPolicy.ticket_type, SlaPolicy.priority)).tuples())
    created = 0
    for ticket_type in TYPES:
        for priority in PRIORITIES:
            if (ticket_type, priority) in existing:
                continue
            response, resolve = default_targets(ticket_type, priority)
            db.session.add(SlaPolicy(ticket_type=ticket_type, priority=priority, response_minutes=response,
                                     resolve_minutes=resolve, warn_percent=80))
            created += 1
    if created:
        audit.record(actor, "create", "sla_policy", None, {"after": {"shipped_policies": created}})
    db.session.commit()
    return created


SPEC = {
    "ticket_type": lambda v: check_choice(v, TYPES),
    "priority": lambda v: check_choice(v, PRIORITIES),
    "response_minutes": lambda v: check_int(v, minimum=1, maximum=MAX_MINUTES),
    "resolve_minutes": lambda v: check_int(v, minimum=1, maximum=MAX_MINUTES),
    "warn_percent": lambda v: check_int(80 if v in (None, "") else v, minimum=1, maximum=99),
}


def _clean(data: dict[str, Any], existing: SlaPolicy | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, fn in SPEC.items():
        if name in data or (existing is None and name != "warn_percent"):
            try:
                out[name] = fn(data.get(name))
            except FieldError as exc:
                errors[name] = str(exc)
    response = out.get("response_minutes", existing.response_minutes if existing else None)
    resolve = out.get("resolve_minutes", existing.resolve_minutes if existing else None)
    if response and resolve and "resolve_minutes" not in errors and resolve < response:
        errors["resolve_minutes"] = _("The resolution target cannot be shorter than the response target.")
    ticket_type = out.get("ticket_type", existing.ticket_type if existing else None)
    priority = out.get("priority", existing.priority if existing else None)
    if "ticket_type" not in errors and "priority" not in errors and ticket_type and priority:
        other = db.session.execute(select(SlaPolicy.id).where(
            SlaPolicy.ticket_type == ticket_type, SlaPolicy.priority == priority)).scalar()
        if other is not None and (existing is None or other != existing.id):
            errors["priority"] = _("There is already a policy for this type and priority.")
    if errors:
        raise Invalid(errors)
    return out


def _snapshot(policy: SlaPolicy, fields: Any = FIELDS) -> dict[str, Any]:
    return {f: getattr(policy, f) for f in fields}


def get(policy_id: int) -> SlaPolicy:
    policy = db.session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound()
    return policy


def create(data: dict[str, Any], actor: Actor) -> SlaPolicy:
    values = _clean(dict(data), None)
    policy = SlaPolicy(**values)
    db.session.add(policy)
    db.session.flush()
    audit.record(actor, "create", "sla_policy", policy.id, {"after": _snapshot(policy)})
    db.session.commit()
    return policy


def update(policy_id: int, data: dict[str, Any], actor: Actor, version: Any = None) -> SlaPolicy:
    policy = get(policy_id)
    if version not in (None, ""):
        try:
            stale = int(version) != policy.version
        except (TypeError, ValueError):
            raise Invalid({"version": _("Not a valid version: %(value)s.", value=version)}) from None
        if stale:
            raise Conflict(current=_snapshot(policy, [f for f in FIELDS if f in data]))
    values = _clean({k: v for k, v in data.items() if k in FIELDS}, policy)
    changed = {k: v for k, v in values.items() if getattr(policy, k) != v}
    if not changed:
        return policy
    before = _snapshot(policy, changed)
    for key, value in changed.items():
        setattr(policy, key, value)
    audit.record(actor, "update", "sla_policy", policy.id, {"before": before, "after": changed})
    db.session.commit()
    return policy


def delete(policy_id: int, actor: Actor) -> None:
    """Delete a policy; tickets of that type and priority then use the shipped targets."""
    policy = get(policy_id)
    before = _snapshot(policy)
    db.session.execute(
        TicketSla.__table__.update().where(TicketSla.policy_id == policy.id).values(policy_id=None)
    )
    db.session.delete(policy)
    audit.record(actor, "delete", "sla_policy", policy_id, {"before": before})
    db.session.commit()
