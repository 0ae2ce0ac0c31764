"""Product catalogue: plans and value-added services, validated and audited."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models.plan import PLAN_TYPES, Plan
from app.models.vas import ValueAddedService
from app.services import audit
from app.services.actor import Actor
from app.services.errors import Conflict, Invalid, NotFound
from app.services.validation import FieldError, check_bool, check_choice, check_int, check_money, check_text


def _version(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Invalid({"version": _("Not a valid version: %(value)s.", value=value)}) from None


PLAN_FIELDS = {
    "code": lambda v: check_text(v, 32, required=True),
    "name": lambda v: check_text(v, 64, required=True),
    "plan_type": lambda v: check_choice(v, PLAN_TYPES),
    "monthly_fee": lambda v: check_money(v),
    "voice_minutes": lambda v: check_int(v, minimum=0),
    "sms_count": lambda v: check_int(v, minimum=0),
    "data_mb": lambda v: check_int(v, minimum=0),
    "voice_overage_rate": lambda v: check_money(v),
    "data_overage_rate": lambda v: check_money(v),
    "contract_months": lambda v: check_int(v, required=False, minimum=1),
    "active": check_bool,
}
VAS_FIELDS = {
    "code": lambda v: check_text(v, 32, required=True),
    "name": lambda v: check_text(v, 64, required=True),
    "monthly_fee": lambda v: check_money(v),
    "active": check_bool,
}


def _clean(data: dict[str, Any], spec: dict[str, Any], creating: bool) -> dict[str, Any]:
    errors, out = {}, {}
    for field, fn in spec.items():
        if field not in data:
            if creating and field in ("code", "name", "monthly_fee"):
                errors[field] = _("This field is required.")
            continue
        try:
            out[field] = fn(data[field])
        except FieldError as exc:
            errors[field] = str(exc)
    if errors:
        raise Invalid(errors)
    return out


def _save(model: type, spec: dict[str, Any], entity: str, pk: int | None, data: dict[str, Any],
          actor: Actor, version: Any = None) -> Any:
    item = None
    if pk is not None:
        item = db.session.get(model, pk)
        if item is None:
            raise NotFound()
        if version not in (None, "") and _version(version) != item.version:
            raise Conflict(current={k: str(getattr(item, k)) for k in spec if k in data})
    values = _clean(data, spec, creating=item is None)
    if "code" in values:
        other = db.session.execute(select(model.id).where(model.code == values["code"])).scalar()
        if other is not None and (item is None or other != item.id):
            raise Invalid({"code": _("Code %(code)s is already used.", code=values["code"])})
    before = {k: str(getattr(item, k)) for k in values} if item is not None else None
    if item is None:
        item = model()
        db.session.add(item)
    for field, value in values.items():
        setattr(item, field, value)
    db.session.flush()
    after = {k: str(getattr(item, k)) for k in values}
    audit.record(actor, "create" if before is None else "update", entity, item.id,
                 {"before": before, "after": after} if before else {"after": after})
    db.session.commit()
    return item


def create_plan(data: dict[str, Any], actor: Actor) -> Plan:
    return _save(Plan, PLAN_FIELDS, "plan", None, data, actor)


def update_plan(pk: int, data: dict[str, Any], actor: Actor, version: Any = None) -> Plan:
    return _save(Plan, PLAN_FIELDS, "plan", pk, data, actor, version)


def create_vas(data: dict[str, Any], actor: Actor) -> ValueAddedService:
    return _save(ValueAddedService, VAS_FIELDS, "value_added_service", None, data, actor)


def update_vas(pk: int, data: dict[str, Any], actor: Actor, version: Any = None) -> ValueAddedService:
    return _save(ValueAddedService, VAS_FIELDS, "value_added_service", pk, data, actor, version)
