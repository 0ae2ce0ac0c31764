"""Ticket classification and assignment (工单分派).

Routing: the first enabled `TicketRoutingRule` (by `position`, then id) whose type, category and
keywords all match chooses the department queue; its priority is a floor (a rule raises the
requested priority, never lowers it). No match → the customer-service queue.

Assignment: within a department, the least-loaded available agent — an active user with the Agent
role in that department — with the fewest tickets in hand (assigned, in progress, waiting for the
customer, transferred to them, reopened); ties go to the agent whose last assignment is oldest, then
the lowest id, which makes equal loads a round-robin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_appbuilder.security.sqla.models import Role
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models.department import Department
from app.models.ticket import PRIORITIES, TYPES, Ticket, TicketRoutingRule
from app.models.user import CrmUser
from app.services import audit
from app.services.actor import SYSTEM, Actor
from app.services.errors import Conflict, Invalid, NotFound
from app.services.validation import FieldError, check_bool, check_choice, check_int, check_text, check_version

DEFAULT_DEPARTMENT = "customer-service"
# Statuses that count as work in an agent's hands.
LOAD_STATUSES = ("assigned", "in_progress", "waiting_customer", "transferred", "reopened")

# Shipped rules (English msgids as names; pages translate them). Created once, never overwritten.
SHIPPED = (
    {"code": "regulator-escalation", "name": _l("Regulator or media threat: urgent complaint handling"),
     "position": 5, "ticket_type": None, "category": None,
     "keywords": "工信部,12300,曝光,媒体,regulator,media", "department": "customer-service", "priority": "urgent"},
    {"code": "network-keywords", "name": _l("Network problem words: technical support"),
     "position": 10, "ticket_type": None, "category": None,
     "keywords": "断网,无信号,没信号,网速慢,掉线,宽带,no signal,outage,slow network,broadband",
     "department": "technical", "priority": "high"},
    {"code": "fault-technical", "name": _l("Fault reports: technical support"), "position": 20,
     "ticket_type": "fault", "category": None, "keywords": None, "department": "technical", "priority": None},
    {"code": "complaint-cs", "name": _l("Complaints: customer service, high priority"), "position": 30,
     "ticket_type": "complaint", "category": None, "keywords": None, "department": "customer-service",
     "priority": "high"},
    {"code": "billing-cs", "name": _l("Billing disputes: customer service"), "position": 40,
     "ticket_type": "billing_dispute", "category": None, "keywords": None, "department": "customer-service",
     "priority": "normal"},
)


@dataclass(frozen=True)
class Route:
    department_id: int
    priority: str
    rule_id: int | None


def _department_id(code: str) -> int | None:
    return db.session.execute(select(Department.id).where(Department.code == code)).scalar()


def keywords_of(rule: TicketRoutingRule) -> list[str]:
    raw = (rule.keywords or "").replace("，", ",")
    return [k.strip().lower() for k in raw.split(",") if k.strip()]


def matches(rule: TicketRoutingRule, ticket_type: str, category: str | None, text: str) -> bool:
    if rule.ticket_type and rule.ticket_type != ticket_type:
        return False
    if rule.category and (category or "").strip().lower() != rule.category.strip().lower():
        return False
    words = keywords_of(rule)
    return not words or any(w in text for w in words)


def higher(a: str, b: str | None) -> str:
    if b is None:
        return a
    return a if PRIORITIES.index(a) >= PRIORITIES.index(b) else b


def route(ticket_type: str, category: str | None, text: str, priority: str = "normal") -> Route:
    """Department and priority for a new ticket (see module doc)."""
    lowered = (text or "").lower()
    rules = db.session.execute(
        select(TicketRoutingRule).where(TicketRoutingRule.enabled.is_(True))
        .order_by(TicketRoutingRule.position, TicketRoutingRule.id)
    ).scalars()
    for rule in rules:
        if matches(rule, ticket_type, category, lowered):
            return Route(rule.department_id, higher(priority, rule.priority), rule.id)
    dept = _department_id(DEFAULT_DEPARTMENT)
    if dept is None:
        dept = db.session.execute(select(func.min(Department.id))).scalar()
    if dept is None:
        raise Invalid({"department": _("No department exists; run 'crm init'.")})
    return Route(dept, priority, None)


def agent_ids(department_id: int) -> list[int]:
    """Active users with the Agent role in the department."""
    return list(db.session.execute(
        select(CrmUser.id).join(CrmUser.roles)
        .where(Role.name == "Agent", CrmUser.active.is_(True), CrmUser.department_id == department_id)
        .order_by(CrmUser.id)
    ).scalars())


def loads(user_ids: list[int]) -> dict[int, int]:
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(Ticket.assignee_id, func.count()).where(
            Ticket.assignee_id.in_(user_ids), Ticket.status.in_(LOAD_STATUSES))
        .group_by(Ticket.assignee_id)
    ).all()
    out = dict.fromkeys(user_ids, 0)
    out.update({uid: n for uid, n in rows})
    return out


def least_loaded_agent(department_id: int) -> int | None:
    """The agent who should get the next ticket of the department, or None (nobody available)."""
    ids = agent_ids(department_id)
    if not ids:
        return None
    load = loads(ids)
    last = dict(db.session.execute(
        select(Ticket.assignee_id, func.max(Ticket.assigned_at)).where(Ticket.assignee_id.in_(ids))
        .group_by(Ticket.assignee_id)
    ).all())
    # Oldest last assignment first; never assigned sorts first (empty string < any ISO time).
    return min(ids, key=lambda uid: (load[uid], last[uid].isoformat() if last.get(uid) else "", uid))


def is_agent_of(user_id: int, department_id: int) -> bool:
    return user_id in agent_ids(department_id)


# --- rule upkeep (Managers) -------------------------------------------------------------------

FIELDS = ("code", "name", "enabled", "position", "ticket_type", "category", "keywords", "department_id",
          "priority")


def _clean(data: dict[str, Any], existing: TicketRoutingRule | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    def run(name: str, fn: Any) -> None:
        if existing is not None and name not in data:
            return
        try:
            out[name] = fn(data.get(name))
        except FieldError as exc:
            errors[name] = str(exc)

    run("code", lambda v: check_text(v, 32, required=True))
    run("name", lambda v: check_text(v, 128, required=True))
    run("enabled", lambda v: True if v is None else check_bool(v))
    run("position", lambda v: check_int(v, required=False, minimum=0, maximum=100000) or 100)
    run("ticket_type", lambda v: check_choice(v or None, TYPES, required=False))
    run("category", lambda v: check_text(v, 64))
    run("keywords", lambda v: check_text(v, 2000))
    run("priority", lambda v: check_choice(v or None, PRIORITIES, required=False))
    if existing is None or "department_id" in data or "department" in data:
        dept = data.get("department_id", data.get("department"))
        dept = getattr(dept, "id", dept)
        try:
            dept_id = int(dept) if dept not in (None, "") else None
        except (TypeError, ValueError):
            dept_id = None
        if dept_id is None or db.session.get(Department, dept_id) is None:
            errors["department"] = _("Choose a department.")
        else:
            out["department_id"] = dept_id
    if "code" in out and not errors.get("code"):
        clash = db.session.execute(select(TicketRoutingRule.id).where(TicketRoutingRule.code == out["code"])).scalar()
        if clash is not None and (existing is None or clash != existing.id):
            errors["code"] = _("This code is already used.")
    if errors:
        raise Invalid(errors)
    return out


def create_rule(data: dict[str, Any], actor: Actor) -> TicketRoutingRule:
    values = _clean(data, None)
    rule = TicketRoutingRule(**values)
    db.session.add(rule)
    db.session.flush()
    audit.record(actor, "create", "ticket_routing_rule", rule.id, {k: str(v) for k, v in values.items()})
    db.session.commit()
    return rule


def update_rule(rule_id: int, data: dict[str, Any], actor: Actor, version: Any = None) -> TicketRoutingRule:
    rule = db.session.get(TicketRoutingRule, rule_id)
    if rule is None:
        raise NotFound()
    if check_version(version) not in (None, rule.version):  # another manager saved it meanwhile
        raise Conflict(current={k: str(getattr(rule, k)) for k in data if hasattr(TicketRoutingRule, k)})
    values = _clean(data, rule)
    for key, value in values.items():
        setattr(rule, key, value)
    audit.record(actor, "update", "ticket_routing_rule", rule.id, {k: str(v) for k, v in values.items()})
    db.session.commit()
    return rule


def delete_rule(rule_id: int, actor: Actor) -> None:
    rule = db.session.get(TicketRoutingRule, rule_id)
    if rule is None:
        raise NotFound()
    db.session.delete(rule)
    audit.record(actor, "delete", "ticket_routing_rule", rule_id, {"code": rule.code})
    db.session.commit()


def ensure_defaults(actor: Actor = SYSTEM) -> int:
    """Create the shipped routing rules that do not exist yet (by code); never changes an existing one."""
    existing = set(db.session.execute(select(TicketRoutingRule.code)).scalars())
    created = 0
    for spec in SHIPPED:
        if spec["code"] in existing:
            continue
        dept = _department_id(spec["department"])
        if dept is None:
            continue
        values = {k: v for k, v in spec.items() if k != "department"}
        with force_locale("en"):
            values["name"] = str(values["name"])  # the English msgid; pages translate it
        db.session.add(TicketRoutingRule(enabled=True, department_id=dept, **values))
        created += 1
    if created:
        audit.record(actor, "ensure_defaults", "ticket_routing_rule", None, {"created": created})
    db.session.commit()
    return created
