"""Team hierarchy pages (issue 8.3, System menu): teams and their leads, who is in which team, and
each department's head and parent. Every write goes through `app.services.teams`; what each user
then sees is decided in `app.security.access` (`reach`).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.models.department import Department
from app.models.team import Team
from app.models.user import CrmUser
from app.services import teams
from app.views.base import ServiceModelView, Writes
from app.views.datamodel import CrmSQLAInterface

TEAM_LABELS = {
    "name": _l("Team name"), "department": _l("Department"), "lead": _l("Team lead"), "members": _l("Members"),
}


class TeamModelView(ServiceModelView):
    """Teams: name, department and lead (the lead joins the team when named)."""

    datamodel = CrmSQLAInterface(Team)
    route_base = "/teams"
    writes = Writes(create=teams.create_team, update=teams.update_team, delete=teams.delete_team)
    base_order = ("name", "asc")
    list_title = _l("Teams")
    add_title = _l("Add team")
    edit_title = _l("Edit team")
    show_title = _l("Team")
    label_columns = TEAM_LABELS
    list_columns = ["name", "department", "lead"]
    show_columns = ["name", "department", "lead", "members"]
    add_columns = ["name", "department", "lead"]
    edit_columns = ["name", "department", "lead", "version"]
    search_columns = ["name", "department", "lead"]
    description_columns = {"lead": _l("The team lead sees the records of every member; a lead joins the team.")}

    def version_of(self, item: Any) -> str:
        return teams.team_version(item)  # no version column: a digest of the edited fields


MEMBER_LABELS = {
    "username": _l("User name"), "first_name": _l("First name"), "last_name": _l("Last name"),
    "department": _l("Department"), "team": _l("Team"), "active": _l("Active"),
}


class TeamMemberModelView(ServiceModelView):
    """Users and their team: editing a row moves the user (audited; visibility changes at once)."""

    datamodel = CrmSQLAInterface(CrmUser)
    route_base = "/team-members"
    writes = Writes(update=teams.update_membership)
    base_order = ("username", "asc")
    list_title = _l("Team members")
    edit_title = _l("Move user to a team")
    show_title = _l("Team member")
    label_columns = MEMBER_LABELS
    list_columns = ["username", "first_name", "last_name", "department", "team"]
    show_columns = ["username", "first_name", "last_name", "department", "team", "active"]
    edit_columns = ["team", "version"]
    search_columns = ["username", "department", "team"]

    def version_of(self, item: Any) -> str:
        return teams.membership_version(item)


DEPARTMENT_LABELS = {
    "code": _l("Code"), "name": _l("Department name"), "parent": _l("Parent department"),
    "head": _l("Department head"),
}


class DepartmentStructureModelView(ServiceModelView):
    """Each department's parent and head (the head sees the whole department subtree)."""

    datamodel = CrmSQLAInterface(Department)
    route_base = "/department-structure"
    writes = Writes(update=teams.update_department)
    base_order = ("code", "asc")
    list_title = _l("Department structure")
    edit_title = _l("Edit department structure")
    show_title = _l("Department")
    label_columns = DEPARTMENT_LABELS
    list_columns = ["code", "name", "parent", "head"]
    show_columns = ["code", "name", "parent", "head"]
    edit_columns = ["parent", "head", "version"]
    search_columns = ["code", "name", "parent", "head"]
    description_columns = {"head": _l("The head sees the records of every user in this department and "
                                      "its sub-departments.")}

    def version_of(self, item: Any) -> str:
        return teams.department_version(item)
