"""Stage playbook (阶段打法): configurable suggested actions per stage, shown on an opportunity with
each action's due date (days after the opportunity entered the stage) and overdue ones flagged."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.opportunity import OPEN_STAGES, Opportunity
from app.models.sales_playbook import PlaybookAction, PlaybookDone
from app.services import audit, opportunities
from app.services.actor import SYSTEM, Actor
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.validation import (
    FieldError,
    check_bool,
    check_choice,
    check_id,
    check_int,
    check_text,
    check_version,
)
from app.timefmt import to_local

# Shipped defaults (English msgids; pages translate them). Created once, never overwritten.
DEFAULTS = (
    {"code": "potential_call_back", "stage": "potential", "title": _l("Call back within 3 days"),
     "material": _l("Needs checklist"), "due_days": 3, "position": 1},
    {"code": "intent_plan_comparison", "stage": "intent", "title": _l("Send a plan comparison"),
     "material": _l("Plan comparison sheet"), "due_days": 3, "position": 1},
    {"code": "negotiation_offer", "stage": "negotiation",
     "title": _l("Prepare the offer; a discount over the threshold needs manager approval"),
     "material": _l("Offer template"), "due_days": 5, "position": 1, "discount_threshold": Decimal("10.00")},
)
FIELDS = ("code", "stage", "title", "material", "due_days", "discount_threshold", "position", "enabled")


def ensure_defaults() -> int:
    """Create the shipped actions that do not exist yet (by code); idempotent."""
    from flask_babel import force_locale

    existing = set(db.session.execute(select(PlaybookAction.code)).scalars())
    created = 0
    with force_locale("en"):
        for spec in DEFAULTS:
            if spec["code"] in existing:
                continue
            values = {k: (str(v) if k in ("title", "material") else v) for k, v in spec.items()}
            db.session.add(PlaybookAction(enabled=True, **values))
            created += 1
    if created:
        audit.record(SYSTEM, "create", "sales_playbook_action", None, {"after": {"shipped": created}})
    db.session.commit()
    return created


@dataclass
class Suggestion:
    action: PlaybookAction
    due: dt.date
    done: bool
    overdue: bool

    @property
    def title(self) -> str:
        return _(self.action.title)

    @property
    def material(self) -> str:
        return _(self.action.material) if self.action.material else ""


def for_opportunity(opp: Opportunity, today: dt.date) -> list[Suggestion]:
    if opp.stage not in OPEN_STAGES:
        return []
    actions = db.session.execute(select(PlaybookAction).where(
        PlaybookAction.stage == opp.stage, PlaybookAction.enabled.is_(True)).order_by(
        PlaybookAction.position, PlaybookAction.id)).scalars().all()
    done = set(db.session.execute(select(PlaybookDone.action_id).where(
        PlaybookDone.opportunity_id == opp.id)).scalars())
    entered = to_local(opp.stage_entered_at).date()
    out = []
    for action in actions:
        due = entered + dt.timedelta(days=action.due_days)
        is_done = action.id in done
        out.append(Suggestion(action, due, is_done, not is_done and due < today))
    return out


def mark_done(opportunity_id: Any, action_id: Any, actor: Actor) -> PlaybookDone:
    opp = opportunities.get(opportunity_id, actor)
    pk = check_id(action_id)
    action = db.session.get(PlaybookAction, pk) if pk is not None else None
    if action is None or action.stage != opp.stage:
        raise Invalid({"action_id": _("This action does not belong to the opportunity's stage.")})
    existing = db.session.execute(select(PlaybookDone).where(
        PlaybookDone.opportunity_id == opp.id, PlaybookDone.action_id == action.id)).scalar()
    if existing is not None:
        return existing
    row = PlaybookDone(opportunity_id=opp.id, action_id=action.id, done_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "playbook_done", "opportunity", opp.id, {"after": {"action": action.code}})
    db.session.commit()
    return row


def threshold(stage: str = "negotiation") -> Decimal | None:
    """The lowest discount threshold configured for a stage (None: no approval rule)."""
    values = [v for v in db.session.execute(select(PlaybookAction.discount_threshold).where(
        PlaybookAction.stage == stage, PlaybookAction.enabled.is_(True))).scalars() if v is not None]
    return min(values) if values else None


# --- configuration (managers) ----------------------------------------------------------------------


def _manager(actor: Actor) -> None:
    if not actor.has_role("Admin", "Manager"):
        raise Forbidden()


def _clean(data: dict[str, Any], existing: PlaybookAction | None) -> dict[str, Any]:
    from app.models.opportunity import OPEN_STAGES as stages

    specs = {
        "code": lambda v: check_text(v, 32, required=True),
        "stage": lambda v: check_choice(v, stages),
        "title": lambda v: check_text(v, 255, required=True),
        "material": lambda v: check_text(v, 255),
        "due_days": lambda v: check_int(3 if v in (None, "") else v, minimum=0, maximum=365),
        "discount_threshold": lambda v: None if v in (None, "") else _percent(v),
        "position": lambda v: check_int(0 if v in (None, "") else v, minimum=0, maximum=1000),
        "enabled": check_bool,
    }
    errors, out = {}, {}
    for field, fn in specs.items():
        if field not in data:
            if existing is None and field in ("code", "stage", "title"):
                errors[field] = _("This field is required.")
            continue
        try:
            out[field] = fn(data[field])
        except FieldError as exc:
            errors[field] = str(exc)
    if "code" in out:
        other = db.session.execute(select(PlaybookAction.id).where(PlaybookAction.code == out["code"])).scalar()
        if other is not None and (existing is None or other != existing.id):
            errors["code"] = _("This code is already used.")
    if errors:
        raise Invalid(errors)
    return out


def _percent(value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except Exception:  # noqa: BLE001 - any unparsable text
        raise FieldError(_("Must be a percentage between 0 and 100.")) from None
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(100):
        raise FieldError(_("Must be a percentage between 0 and 100."))
    return number.quantize(Decimal("0.01"))


def create(data: dict[str, Any], actor: Actor) -> PlaybookAction:
    _manager(actor)
    values = _clean(data, None)
    action = PlaybookAction(**{"enabled": True, **values})
    db.session.add(action)
    db.session.flush()
    audit.record(actor, "create", "sales_playbook_action", action.id, {"after": {k: str(v) for k, v in values.items()}})
    db.session.commit()
    return action


def update(action_id: Any, data: dict[str, Any], actor: Actor, version: Any = None) -> PlaybookAction:
    _manager(actor)
    pk = check_id(action_id)
    action = db.session.get(PlaybookAction, pk) if pk is not None else None
    if action is None:
        raise NotFound()
    if check_version(version) not in (None, action.version):  # another manager saved it meanwhile
        raise Conflict(current={k: str(getattr(action, k)) for k in FIELDS if k in data})
    values = _clean({k: v for k, v in data.items() if k in FIELDS}, action)
    for k, v in values.items():
        setattr(action, k, v)
    audit.record(actor, "update", "sales_playbook_action", action.id, {"after": {k: str(v) for k, v in values.items()}})
    db.session.commit()
    return action


def delete(action_id: Any, actor: Actor) -> None:
    _manager(actor)
    pk = check_id(action_id)
    action = db.session.get(PlaybookAction, pk) if pk is not None else None
    if action is None:
        raise NotFound()
    db.session.execute(PlaybookDone.__table__.delete().where(PlaybookDone.action_id == action.id))
    db.session.delete(action)
    audit.record(actor, "delete", "sales_playbook_action", pk, {"before": {"code": action.code}})
    db.session.commit()


PLAYBOOK_LABELS = {
    "code": _l("Code"), "stage": _l("Stage"), "title": _l("Suggested action"), "material": _l("Material"),
    "due_days": _l("Due within (days)"), "discount_threshold": _l("Discount needing approval (%)"),
    "position": _l("Display order"), "enabled": _l("Enabled"),
}
