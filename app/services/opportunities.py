"""Opportunities (商机): create/update, and the one place stages move (every move recorded)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, union_all
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models.base import utcnow
from app.models.opportunity import FUNNEL_RANK, OPEN_STAGES, STAGES, Opportunity, OpportunityStageChange
from app.models.plan import Plan
from app.models.user import CrmUser
from app.security.access import scope_sales, sees_all_sales
from app.services import audit, customers
from app.services.actor import Actor
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.sales import STAGE_LABELS, with_ids
from app.services.validation import FieldError, check_date, check_id, check_money, check_text, check_version

EDITABLE = ("name", "customer_id", "expected_revenue", "expected_close_date", "plan_id", "products", "owner_id")
# Legal stage moves: one step forward, one step back, or lost from any open stage. Won and lost are final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "potential": ("intent", "lost"),
    "intent": ("negotiation", "potential", "lost"),
    "negotiation": ("won", "intent", "lost"),
    "won": (),
    "lost": (),
}


def get(opportunity_id: Any, actor: Actor) -> Opportunity:
    pk = check_id(opportunity_id)
    if pk is None:
        raise NotFound()
    stmt = scope_sales(select(Opportunity).where(Opportunity.id == pk), actor, Opportunity)
    opp = db.session.execute(stmt).scalar_one_or_none()
    if opp is None:
        raise NotFound()
    return opp


def _clean(data: dict[str, Any], actor: Actor, creating: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if creating:
        for required in ("name", "customer_id"):
            if data.get(required) in (None, ""):
                errors[required] = _("This field is required.")
    if data.get("name") not in (None, ""):
        try:
            out["name"] = check_text(data["name"], 128, required=True)
        except FieldError as exc:
            errors["name"] = str(exc)
    if data.get("customer_id") not in (None, ""):
        try:
            out["customer_id"] = customers.get(data["customer_id"], actor).id
        except NotFound:
            errors["customer_id"] = _("Not a valid choice: %(value)s.", value=data["customer_id"])
    for field, fn in (("expected_revenue", lambda v: check_money(v if v not in (None, "") else "0")),
                      ("expected_close_date", check_date),
                      ("products", lambda v: check_text(v, 255))):
        if field in data:
            try:
                out[field] = fn(data[field])
            except FieldError as exc:
                errors[field] = str(exc)
    if "plan_id" in data:
        if data["plan_id"] in (None, ""):
            out["plan_id"] = None
        else:
            pk = check_id(data["plan_id"])
            if pk is None or db.session.get(Plan, pk) is None:
                errors["plan_id"] = _("Not a valid choice: %(value)s.", value=data["plan_id"])
            else:
                out["plan_id"] = pk
    if data.get("owner_id") not in (None, ""):
        pk = check_id(data["owner_id"])
        if pk is None or db.session.get(CrmUser, pk) is None:
            errors["owner_id"] = _("Not a valid choice: %(value)s.", value=data["owner_id"])
        else:
            out["owner_id"] = pk
    if errors:
        raise Invalid(errors)
    return out


def _record_move(opp: Opportunity, old: str | None, new: str, actor: Actor, note: str | None) -> None:
    now = utcnow()
    db.session.add(OpportunityStageChange(opportunity_id=opp.id, from_stage=old, to_stage=new,
                                          changed_by_id=actor.id, changed_at=now, note=note))
    opp.stage = new
    opp.reached_rank = max(opp.reached_rank or 0, FUNNEL_RANK.get(new, 0))
    opp.stage_entered_at = now
    opp.closed_at = now if new in ("won", "lost") else None


def create(data: dict[str, Any], actor: Actor, lead_id: int | None = None) -> Opportunity:
    data = with_ids(data)
    values = _clean({k: v for k, v in data.items() if k in EDITABLE}, actor, creating=True)
    if not sees_all_sales(actor) or not values.get("owner_id"):
        values["owner_id"] = actor.id  # a salesperson's opportunity is their own
    opp = Opportunity(stage="potential", lead_id=lead_id, **values)
    db.session.add(opp)
    db.session.flush()
    _record_move(opp, None, "potential", actor, None)
    audit.record(actor, "create", "opportunity", opp.id,
                 {"after": {k: str(v) if v is not None else None for k, v in values.items()}})
    db.session.commit()
    return opp



def update(opportunity_id: Any, data: dict[str, Any], actor: Actor, version: Any = None) -> Opportunity:
    """Change fields; a `stage` in the data moves through `move` (the same rules as the board)."""
    data = with_ids(data)
    opp = get(opportunity_id, actor)
    version = check_version(version)
    if version is not None and version != opp.version:
        raise Conflict(current={"stage": opp.stage, "name": opp.name})
    values = _clean({k: v for k, v in data.items() if k in EDITABLE}, actor, creating=False)
    if "owner_id" in values and values["owner_id"] != opp.owner_id:
        if not sees_all_sales(actor):
            raise Forbidden(_("Only a manager can reassign an owner."))
        audit.record(actor, "reassign", "opportunity", opp.id,
                     {"before": {"owner_id": opp.owner_id}, "after": {"owner_id": values["owner_id"]}})
    if opp.stage in ("won", "lost") and any(k != "owner_id" and getattr(opp, k) != v for k, v in values.items()):
        raise Invalid({next(iter(values)): _("A closed opportunity can no longer be changed.")})
    changed = {k: v for k, v in values.items() if getattr(opp, k) != v}
    for k, v in changed.items():
        setattr(opp, k, v)
    if changed:
        audit.record(actor, "update", "opportunity", opp.id,
                     {"after": {k: str(v) if v is not None else None for k, v in changed.items()}})
    if data.get("stage") not in (None, "", opp.stage):
        move(opp.id, data["stage"], actor, reason=data.get("lost_reason"), commit=False)
    db.session.commit()
    return opp


def move(opportunity_id: Any, to_stage: Any, actor: Actor, reason: Any = None, note: Any = None,
         commit: bool = True) -> Opportunity:
    """The one stage-move service: refuses illegal moves; lost needs a reason; records who/when/from/to."""
    opp = get(opportunity_id, actor)
    if to_stage not in STAGES:
        raise Invalid({"stage": _("Not a valid choice: %(value)s.", value=to_stage)})
    if to_stage not in TRANSITIONS[opp.stage]:
        raise Invalid({"stage": _("An opportunity cannot move from %(old)s to %(new)s.",
                                  old=STAGE_LABELS[opp.stage], new=STAGE_LABELS[to_stage])})
    lost_reason = None
    if to_stage == "lost":
        try:
            lost_reason = check_text(reason, 255, required=True)
        except FieldError:
            raise Invalid({"lost_reason": _("Give the reason the opportunity was lost.")}) from None
    old = opp.stage
    _record_move(opp, old, to_stage, actor, check_text(note, 255) if note else None)
    if lost_reason:
        opp.lost_reason = lost_reason
    audit.record(actor, "stage", "opportunity", opp.id,
                 {"before": {"stage": old}, "after": {"stage": to_stage, "lost_reason": lost_reason}})
    if commit:
        db.session.commit()
    return opp


def history(opp: Opportunity) -> list[OpportunityStageChange]:
    return list(db.session.execute(
        select(OpportunityStageChange).where(OpportunityStageChange.opportunity_id == opp.id)
        .order_by(OpportunityStageChange.changed_at, OpportunityStageChange.id)).scalars())


def board(actor: Actor, owner_id: int | None = None, per_stage: int = 50,
          per_closed: int = 20) -> dict[str, list[Opportunity]]:
    """The kanban: the actor's opportunities per stage, open ones by expected close date (the first
    `per_stage`), won and lost the most recent `per_closed`."""
    # Each column's ids come from its own short index scan (ix_opportunity_owner_stage_*); the union
    # of them loads every card with its customer and owner in three statements for the whole board,
    # where a query per column and its two eager loads took fifteen.
    branches = []
    for stage in STAGES:
        stmt = scope_sales(select(Opportunity.id).where(Opportunity.stage == stage), actor, Opportunity)
        if owner_id is not None:
            stmt = stmt.where(Opportunity.owner_id == owner_id)
        order = (Opportunity.expected_close_date.asc(), Opportunity.id) if stage in OPEN_STAGES else (
            Opportunity.closed_at.desc(), Opportunity.id.desc())
        limit = per_stage if stage in OPEN_STAGES else per_closed
        sub = stmt.order_by(*order).limit(limit).subquery()
        branches.append(select(sub.c.id).select_from(sub))
    ids = union_all(*branches).subquery()
    cards = db.session.execute(
        select(Opportunity).where(Opportunity.id.in_(select(ids.c.id)))
        .options(selectinload(Opportunity.customer), selectinload(Opportunity.owner))).scalars()
    out: dict[str, list[Opportunity]] = {stage: [] for stage in STAGES}
    for opp in cards:
        out[opp.stage].append(opp)
    for stage, column in out.items():
        if stage in OPEN_STAGES:  # the SQL order: close date ascending, no date last, then id
            column.sort(key=lambda o: (o.expected_close_date is None, o.expected_close_date or dt.date.min, o.id))
        else:  # newest close first (no close time first, as PostgreSQL's DESC), then id descending
            column.sort(key=lambda o: (o.closed_at is None, o.closed_at or dt.datetime.min, o.id), reverse=True)
    return out


def board_totals(actor: Actor, owner_id: int | None = None) -> dict[str, tuple[int, Any]]:
    """Per stage: how many opportunities the actor sees and their expected revenue (all, not just shown)."""
    from sqlalchemy import func

    stmt = scope_sales(select(Opportunity.stage, func.count(), func.sum(Opportunity.expected_revenue)), actor,
                       Opportunity)
    if owner_id is not None:
        stmt = stmt.where(Opportunity.owner_id == owner_id)
    return {stage: (int(n), total or 0) for stage, n, total in db.session.execute(stmt.group_by(Opportunity.stage))}


OPPORTUNITY_LABELS = {
    "id": _l("Opportunity No."), "name": _l("Name"), "customer": _l("Customer"), "lead": _l("Lead"),
    "owner": _l("Owner (salesperson)"), "stage": _l("Stage"), "stage_label": _l("Stage"),
    "expected_revenue": _l("Expected revenue"), "expected_close_date": _l("Expected close date"),
    "plan": _l("Plan"), "products": _l("Products"), "lost_reason": _l("Lost reason"),
    "stage_entered_at": _l("In stage since"), "closed_at": _l("Closed at"), "created_at": _l("Created at"),
}
