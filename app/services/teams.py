"""Team hierarchy upkeep (issue 8.3): teams and their leads, department heads and parents, and
moving users between teams.

Who sees what follows from this structure in `app/security/access.py` (`reach`), read afresh on
every request, so a change here changes visibility on the next request. Only Admins and Managers
change the structure; every change is audited in its own transaction.

Rule chosen where the issue is silent: a team's lead is always one of its members. Naming a lead
moves that user into the team (audited as a move); moving the lead out of the team, or deleting
the team, clears the lead.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from app.extensions import db
from app.models.department import Department
from app.models.team import Team
from app.models.user import CrmUser
from app.services import audit
from app.services.actor import Actor
from app.services.errors import Forbidden, Invalid, NotFound
from app.services.validation import FieldError, check_id, check_text

ADMIN_ROLES = ("Admin", "Manager")


def _admin(actor: Actor) -> None:
    if not actor.has_role(*ADMIN_ROLES):
        raise Forbidden()


def _pick(data: dict[str, Any], *names: str) -> tuple[bool, Any]:
    """(given, value) for the first of `names` present: forms send `lead` (or `lead_id` for a chosen
    object), the API `lead_user_id`; an object from a form select counts as its id."""
    for name in names:
        if name in data:
            value = data[name]
            return True, getattr(value, "id", value)
    return False, None


def _ref(data: dict[str, Any], field: str, names: tuple[str, ...], model: Any,
         errors: dict[str, str], out: dict[str, Any]) -> None:
    """Validate an optional reference (blank clears it) into `out[field]`; an error is reported
    under the form's field name (the last of `names`)."""
    key = names[-1]
    given, raw = _pick(data, *names)
    if not given:
        return
    if raw in (None, ""):
        out[field] = None
        return
    pk = check_id(raw)
    row = db.session.get(model, pk) if pk is not None else None
    if row is None:
        errors[key] = _("No such record.")
        return
    if model is CrmUser and not row.active:
        errors[key] = _("This user is inactive.")
        return
    out[field] = row.id


# --- teams ------------------------------------------------------------------------------------------

def _clean_team(data: dict[str, Any], existing: Team | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if "name" in data or existing is None:
        try:
            out["name"] = check_text(data.get("name"), 64, required=True)
        except FieldError as exc:
            errors["name"] = str(exc)
    _ref(data, "department_id", ("department_id", "department"), Department, errors, out)
    _ref(data, "lead_user_id", ("lead_user_id", "lead_id", "lead"), CrmUser, errors, out)
    if out.get("name"):
        other = db.session.execute(select(Team.id).where(Team.name == out["name"])).scalar()
        if other is not None and (existing is None or other != existing.id):
            errors["name"] = _("A team with this name already exists.")
    if errors:
        raise Invalid(errors)
    return out


def _get_team(team_id: Any) -> Team:
    pk = check_id(team_id)
    team = db.session.get(Team, pk) if pk is not None else None
    if team is None:
        raise NotFound()
    return team


def _join_lead(team: Team, actor: Actor) -> None:
    """The lead is a member: move them in if they are elsewhere (audited like any move)."""
    if team.lead_user_id is None:
        return
    user = db.session.get(CrmUser, team.lead_user_id)
    if user is not None and user.team_id != team.id:
        _move(user, team, actor)


def create_team(data: dict[str, Any], actor: Actor) -> Team:
    _admin(actor)
    values = _clean_team(data, None)
    team = Team(**values)
    db.session.add(team)
    db.session.flush()
    audit.record(actor, "create", "team", team.id, {"after": dict(values)})
    _join_lead(team, actor)
    db.session.commit()
    return team


def update_team(team_id: Any, data: dict[str, Any], actor: Actor, version: Any = None) -> Team:  # noqa: ARG001
    """Rename a team, move it to another department, or change its lead (who joins the team)."""
    _admin(actor)
    team = _get_team(team_id)
    values = _clean_team(data, team)
    before = {k: getattr(team, k) for k in values}
    for key, value in values.items():
        setattr(team, key, value)
    changed = {k: v for k, v in values.items() if before[k] != v}
    if changed:
        audit.record(actor, "update", "team", team.id,
                     {"before": {k: before[k] for k in changed}, "after": changed})
    _join_lead(team, actor)
    db.session.commit()
    return team


def delete_team(team_id: Any, actor: Actor) -> None:
    """Delete a team; its members stay users without a team."""
    _admin(actor)
    team = _get_team(team_id)
    members = list(db.session.execute(select(CrmUser.id).where(CrmUser.team_id == team.id)).scalars())
    # Explicit (SQLite does not enforce the ON DELETE SET NULL of the foreign key).
    db.session.execute(update(CrmUser).where(CrmUser.team_id == team.id).values(team_id=None))
    audit.record(actor, "delete", "team", team.id, {"before": {"name": team.name, "members": members}})
    db.session.delete(team)
    db.session.commit()


# --- membership ---------------------------------------------------------------------------------

def _move(user: CrmUser, team: Team | None, actor: Actor) -> None:
    """Put `user` into `team` (None: no team) in the current transaction, with an audit entry."""
    old_id = user.team_id
    new_id = team.id if team is not None else None
    if old_id == new_id:
        return
    if old_id is not None:
        # The lead is always a member: leaving the team ends the leadership.
        db.session.execute(update(Team).where(Team.id == old_id, Team.lead_user_id == user.id)
                           .values(lead_user_id=None))
    user.team_id = new_id
    audit.record(actor, "move", "user", user.id, {"before": {"team_id": old_id}, "after": {"team_id": new_id}})


def move_user(user_id: Any, team_id: Any, actor: Actor) -> CrmUser:
    """Move a user into a team (`team_id` None or blank: out of any team). Audited; visibility
    follows on the next request (nothing is cached across requests)."""
    _admin(actor)
    pk = check_id(user_id)
    user = db.session.get(CrmUser, pk) if pk is not None else None
    if user is None:
        raise NotFound()
    team = None
    if team_id not in (None, ""):
        tid = check_id(getattr(team_id, "id", team_id))
        team = db.session.get(Team, tid) if tid is not None else None
        if team is None:
            raise Invalid({"team": _("No such team.")})
    _move(user, team, actor)
    db.session.commit()
    return user


def update_membership(user_id: Any, data: dict[str, Any], actor: Actor, version: Any = None) -> CrmUser:  # noqa: ARG001
    """The team-members page's edit form: only the team changes."""
    given, team = _pick(data, "team_id", "team")
    if not given:
        raise Invalid({"team": _("This field is required.")})
    return move_user(user_id, team, actor)


# --- departments: head and parent -------------------------------------------------------------

def _descendants(dept_id: int) -> set[int]:
    from app.security.access import _subtree

    return _subtree({dept_id})


def update_department(dept_id: Any, data: dict[str, Any], actor: Actor, version: Any = None) -> Department:  # noqa: ARG001
    """Set a department's head and parent. A parent under the department itself would make a loop."""
    _admin(actor)
    pk = check_id(dept_id)
    dept = db.session.get(Department, pk) if pk is not None else None
    if dept is None:
        raise NotFound()
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    _ref(data, "head_user_id", ("head_user_id", "head_id", "head"), CrmUser, errors, out)
    _ref(data, "parent_id", ("parent_id", "parent"), Department, errors, out)
    if out.get("parent_id") is not None and out["parent_id"] in _descendants(dept.id):
        errors["parent"] = _("A department cannot be placed under itself or one of its sub-departments.")
    if errors:
        raise Invalid(errors)
    before = {k: getattr(dept, k) for k in out}
    changed = {k: v for k, v in out.items() if before[k] != v}
    for key, value in changed.items():
        setattr(dept, key, value)
    if changed:
        audit.record(actor, "update", "department", dept.id,
                     {"before": {k: before[k] for k in changed}, "after": changed})
    db.session.commit()
    return dept
