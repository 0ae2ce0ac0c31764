"""Care rules (关怀规则): validation, create/update/delete with audit, and the shipped defaults.

Shipped rules store English msgids as their name, call script and offer; pages show them through
`gettext`, so they appear in the user's language. A manager's own wording is shown as typed.
"""

from __future__ import annotations

import json
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.care import CARE_ACTIONS, CareRule, CareTask
from app.models.customer import SEGMENTS
from app.models.message import MessageTemplate
from app.models.plan import PLAN_TYPES
from app.services import audit
from app.services.actor import SYSTEM, Actor
from app.services.care_kinds import KINDS
from app.services.errors import Conflict, Invalid, NotFound
from app.services.validation import FieldError, check_bool, check_int, check_text

OWNER_ROLES = ("Sales", "Agent", "Clerk", "Manager")
FIELDS = (
    "code", "name", "kind", "enabled", "target_segment", "target_plan_type", "target_city",
    "min_tenure_days", "params", "action", "lead_days", "owner_role", "call_script", "max_attempts",
    "retry_days",
)


def _choice(value: Any, allowed: tuple[str, ...], required: bool = True) -> str | None:
    raw = str(value).strip() if value is not None else ""
    if not raw:
        if required:
            raise FieldError(_("This field is required."))
        return None
    if raw not in allowed:
        raise FieldError(_("Not a valid choice: %(value)s.", value=raw))
    return raw


SPEC = {
    "code": lambda v: check_text(v, 32, required=True),
    "name": lambda v: check_text(v, 128, required=True),
    "kind": lambda v: _choice(v, tuple(KINDS)),
    "enabled": check_bool,
    "target_segment": lambda v: _choice(v, SEGMENTS, required=False),
    "target_plan_type": lambda v: _choice(v, PLAN_TYPES, required=False),
    "target_city": lambda v: check_text(v, 32),
    "min_tenure_days": lambda v: check_int(v, required=False, minimum=0, maximum=3650),
    "action": lambda v: _choice(v or "task", CARE_ACTIONS),
    "lead_days": lambda v: check_int(0 if v in (None, "") else v, minimum=0, maximum=60),
    "owner_role": lambda v: _choice(v, OWNER_ROLES),
    "call_script": lambda v: check_text(v, 2000),
    "max_attempts": lambda v: check_int(3 if v in (None, "") else v, minimum=1, maximum=10),
    "retry_days": lambda v: check_int(2 if v in (None, "") else v, minimum=1, maximum=30),
}


def params_of(rule: CareRule) -> dict[str, Any]:
    try:
        value = json.loads(rule.params or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _clean(data: dict[str, Any], existing: CareRule | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if existing is None:
        for required in ("code", "name", "kind", "owner_role"):
            if data.get(required) in (None, ""):
                errors[required] = _("This field is required.")
    for name, fn in SPEC.items():
        if name in data and name not in errors:
            try:
                out[name] = fn(data[name])
            except FieldError as exc:
                errors[name] = str(exc)
    kind_key = out.get("kind") or (existing.kind if existing is not None else None)
    if ("params" in data or "kind" in out) and kind_key in KINDS and "kind" not in errors:
        raw = data.get("params", existing.params if existing is not None else None)
        try:
            params = json.loads(raw) if isinstance(raw, str) and raw.strip() else (raw or {})
            if not isinstance(params, dict):
                raise ValueError
        except ValueError:
            errors["params"] = _("Parameters must be a JSON object, e.g. %(example)s.",
                                 example=json.dumps(KINDS[kind_key].default_params))
        else:
            merged = {**KINDS[kind_key].default_params, **params}
            try:
                out["params"] = json.dumps(KINDS[kind_key].clean_params(merged), ensure_ascii=False)
            except FieldError as exc:
                errors["params"] = str(exc)
    if "code" in out and "code" not in errors:
        other = db.session.execute(select(CareRule.id).where(CareRule.code == out["code"])).scalar()
        if other is not None and (existing is None or other != existing.id):
            errors["code"] = _("Code %(code)s is already used.", code=out["code"])
    action = out.get("action", existing.action if existing is not None else "task")
    code = out.get("code", existing.code if existing is not None else None)
    if action in ("sms", "email") and code and "action" not in errors and db.session.execute(
            select(MessageTemplate.id).where(MessageTemplate.code == code).limit(1)).first() is None:
        # A message rule sends the template with the rule's code (Messages → Message templates).
        errors["action"] = _("No message template has the code %(code)s: create one first.", code=code)
    if errors:
        raise Invalid(errors)
    return out


def _snapshot(rule: CareRule, fields: list[str]) -> dict[str, Any]:
    return {f: getattr(rule, f) for f in fields}


def get(rule_id: int) -> CareRule:
    rule = db.session.get(CareRule, rule_id)
    if rule is None:
        raise NotFound()
    return rule


def create(data: dict[str, Any], actor: Actor) -> CareRule:
    values = _clean(dict(data), None)
    values.setdefault("params", json.dumps(KINDS[values["kind"]].default_params))
    rule = CareRule(**values)
    db.session.add(rule)
    db.session.flush()
    audit.record(actor, "create", "care_rule", rule.id, {"after": _snapshot(rule, list(values))})
    db.session.commit()
    return rule


def update(rule_id: int, data: dict[str, Any], actor: Actor, version: Any = None) -> CareRule:
    rule = get(rule_id)
    if version not in (None, ""):
        try:
            stale = int(version) != rule.version
        except (TypeError, ValueError):
            raise Invalid({"version": _("Not a valid version: %(value)s.", value=version)}) from None
        if stale:
            raise Conflict(current=_snapshot(rule, [f for f in FIELDS if f in data]))
    values = _clean({k: v for k, v in data.items() if k in FIELDS}, rule)
    changed = {k: v for k, v in values.items() if getattr(rule, k) != v}
    if not changed:
        return rule
    before = _snapshot(rule, list(changed))
    for key, value in changed.items():
        setattr(rule, key, value)
    audit.record(actor, "update", "care_rule", rule.id, {"before": before, "after": changed})
    db.session.commit()
    return rule


def delete(rule_id: int, actor: Actor) -> None:
    rule = get(rule_id)
    if db.session.execute(select(CareTask.id).where(CareTask.rule_id == rule.id).limit(1)).first():
        raise Invalid({"enabled": _("This rule has created tasks; disable it instead of deleting it.")})
    before = _snapshot(rule, ["code", "name", "kind"])
    db.session.delete(rule)
    audit.record(actor, "delete", "care_rule", rule_id, {"before": before})
    db.session.commit()


# The rules a new installation starts with (issue 5). Text is stored as the English msgid.
SHIPPED: tuple[dict[str, Any], ...] = (
    {"code": "new_customer_revisit", "name": _l("New customer revisit"), "kind": "new_customer",
     "params": {"offsets": [7, 30]}, "owner_role": "Sales",
     "call_script": _l("Thank the customer for choosing us. Ask how the new line works for them, whether "
                       "coverage and speed meet their needs, and whether the plan fits their usage.")},
    {"code": "revisit_high_value", "name": _l("High-value customer revisit"), "kind": "periodic",
     "params": {"interval_days": 90}, "target_segment": "high_value", "min_tenure_days": 30,
     "owner_role": "Sales",
     "call_script": _l("Thank the customer for their loyalty. Review their usage and bills together, ask about "
                       "satisfaction and any problems, and mention offers that match how they use the service.")},
    {"code": "revisit_ordinary", "name": _l("Regular customer revisit"), "kind": "periodic",
     "params": {"interval_days": 180}, "target_segment": "ordinary", "min_tenure_days": 30,
     "owner_role": "Sales",
     "call_script": _l("Ask whether the customer is satisfied with the service and whether their plan still "
                       "fits their usage.")},
    {"code": "plan_expiry_reminder", "name": _l("Plan expiry reminder"), "kind": "plan_expiry",
     "params": {"offsets": [30, 7], "offer": _l("Renew for 12 months and get 10 GB of extra data every month.")},
     "owner_role": "Sales",
     "call_script": _l("Tell the customer when their plan expires, explain the renewal options and present "
                       "the suggested offer. Note whether they want to renew.")},
    {"code": "birthday_greeting", "name": _l("Birthday greeting"), "kind": "birthday", "params": {},
     "owner_role": "Agent",
     "call_script": _l("Wish the customer a happy birthday on behalf of the company. Do not sell during this "
                       "call unless the customer asks.")},
    {"code": "arrears_reminder", "name": _l("Arrears reminder"), "kind": "arrears",
     "params": {"min_days": 15, "escalate_days": 45}, "owner_role": "Agent",
     "call_script": _l("Remind the customer politely of the overdue amount and the payment channels (app, "
                       "bank withholding, Alipay, WeChat Pay, business hall). Explain that long arrears lead "
                       "to suspension.")},
)


def _msgid(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _msgid(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_msgid(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)  # a lazy string, rendered in English: its msgid


def ensure_shipped_rules(actor: Actor = SYSTEM) -> int:
    """Create the shipped rules that do not exist yet (by code); never changes an existing one."""
    existing = set(db.session.execute(select(CareRule.code)).scalars())
    created = 0
    with force_locale("en"):
        specs = [_msgid(spec) for spec in SHIPPED if spec["code"] not in existing]
    for spec in specs:
        create({**spec, "params": json.dumps(spec["params"]), "enabled": True}, actor)
        created += 1
    return created
