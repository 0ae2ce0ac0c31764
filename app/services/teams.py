"""Team hierarchy upkeep (issue 8.3): teams and their leads, department heads and parents, and
moving users between teams.

Who sees what follows from this structure in `app/security/access.py` (`reach`), read afresh on
every request, so a change here changes visibility on the next request. Only Admins and Managers
change the structure; every change is audited in its own transaction.

Rule chosen where the issue is silent: a team's lead is always one of its members. Naming a lead
moves that user into the team (audited as a move); moving the lead out of the team, or deleting
the team, clears the lead.

No lost updates (issue 7.5): `team`, `department` and `ab_user` have no `version` column, so the
edit forms carry a token instead, a digest of the fields the form edits (`team_version`,
`department_version`, `membership_version`). A stale token is a `Conflict` naming the values saved
meanwhile; the write then re-checks those values in a conditional UPDATE (`_hold`), so a save that
races another one between the check and the commit is refused too, as `version_id_col` does for
versioned tables.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, select, update

from app.extensions import db
from app.models.department import Department
from app.models.team import Team
from app.models.user import CrmUser
from app.services import audit
from app.services.actor import Actor
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
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


# --- optimistic locking without a version column ---------------------------------------------------

def _token(*values: Any) -> str:
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()[:16]


def team_version(team: Team) -> str:
    """The edit form's lock token for a team: its name, department and lead."""
    return _token(team.name, team.department_id, team.lead_user_id)


def department_version(dept: Department) -> str:
    """The edit form's lock token for a department's structure: its parent and head."""
    return _token(dept.parent_id, dept.head_user_id)


def membership_version(user: CrmUser) -> str:
    """The edit form's lock token for a user's membership: their team. Only the team: a login
    (which updates the user row too) must not make a manager's form stale."""
    return _token(user.team_id)


def _snapshot(row: Any, fields: dict[str, str]) -> dict[str, str]:
    """What the other person saved, for the conflict message: form field → shown value."""
    return {field: str(getattr(row, attr) or "") for field, attr in fields.items()}


TEAM_SHOWN = {"name": "name", "department": "department", "lead": "lead"}
DEPARTMENT_SHOWN = {"parent": "parent", "head": "head"}
MEMBERSHIP_SHOWN = {"team": "team"}


def _check_token(row: Any, given: Any, token: Any, shown: dict[str, str]) -> None:
    """A token (what the editor loaded) that no longer matches the row is a Conflict. None or
    blank: the caller did not load the record first (scripts, older clients), so no check."""
    if given in (None, ""):
        return
    if str(given) != token(row):
        raise Conflict(current=_snapshot(row, shown))


def _hold(row: Any, shown: dict[str, str], *columns: Any) -> None:
    """Re-check, in the database, that `columns` still hold the values this session read, and lock
    the row until the commit: a no-op conditional UPDATE. None updated: someone saved in between."""
    model = type(row)
    same: list[ColumnElement[bool]] = [col.is_not_distinct_from(getattr(row, col.key)) for col in columns]
    result = db.session.execute(
        update(model).where(model.id == row.id, *same).values({columns[0].key: columns[0]})
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(row)
        raise Conflict(current=_snapshot(row, shown))


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


def update_team(team_id: Any, data: dict[str, Any], actor: Actor, version: Any = None) -> Team:
    """Rename a team, move it to another department, or change its lead (who joins the team).
    `version` is the `team_version` the editor loaded: a stale one is a Conflict."""
    _admin(actor)
    team = _get_team(team_id)
    _check_token(team, version, team_version, TEAM_SHOWN)
    values = _clean_team(data, team)
    _hold(team, TEAM_SHOWN, Team.name, Team.department_id, Team.lead_user_id)
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


def move_user(user_id: Any, team_id: Any, actor: Actor, version: Any = None) -> CrmUser:
    """Move a user into a team (`team_id` None or blank: out of any team). Audited; visibility
    follows on the next request (nothing is cached across requests). `version`: the
    `membership_version` the editor loaded; a stale one is a Conflict."""
    _admin(actor)
    pk = check_id(user_id)
    user = db.session.get(CrmUser, pk) if pk is not None else None
    if user is None:
        raise NotFound()
    _check_token(user, version, membership_version, MEMBERSHIP_SHOWN)
    team = None
    if team_id not in (None, ""):
        tid = check_id(getattr(team_id, "id", team_id))
        team = db.session.get(Team, tid) if tid is not None else None
        if team is None:
            raise Invalid({"team": _("No such team.")})
    _hold(user, MEMBERSHIP_SHOWN, CrmUser.team_id)
    _move(user, team, actor)
    db.session.commit()
    return user


def update_membership(user_id: Any, data: dict[str, Any], actor: Actor, version: Any = None) -> CrmUser:
    """The team-members page's edit form: only the team changes."""
    given, team = _pick(data, "team_id", "team")
    if not given:
        raise Invalid({"team": _("This field is required.")})
    return move_user(user_id, team, actor, version=version)


# --- departments: head and parent -------------------------------------------------------------

def _descendants(dept_id: int) -> set[int]:
    from app.security.access import _subtree

    return _subtree({dept_id})


def update_department(dept_id: Any, data: dict[str, Any], actor: Actor, version: Any = None) -> Department:
    """Set a department's head and parent. A parent under the department itself would make a loop.
    `version` is the `department_version` the editor loaded: a stale one is a Conflict."""
    _admin(actor)
    pk = check_id(dept_id)
    dept = db.session.get(Department, pk) if pk is not None else None
    if dept is None:
        raise NotFound()
    _check_token(dept, version, department_version, DEPARTMENT_SHOWN)
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    _ref(data, "head_user_id", ("head_user_id", "head_id", "head"), CrmUser, errors, out)
    _ref(data, "parent_id", ("parent_id", "parent"), Department, errors, out)
    if out.get("parent_id") is not None and out["parent_id"] in _descendants(dept.id):
        errors["parent"] = _("A department cannot be placed under itself or one of its sub-departments.")
    if errors:
        raise Invalid(errors)
    _hold(dept, DEPARTMENT_SHOWN, Department.parent_id, Department.head_user_id)
    before = {k: getattr(dept, k) for k in out}
    changed = {k: v for k, v in out.items() if before[k] != v}
    for key, value in changed.items():
        setattr(dept, key, value)
    if changed:
        audit.record(actor, "update", "department", dept.id,
                     {"before": {k: before[k] for k in changed}, "after": changed})
    db.session.commit()
    return dept
