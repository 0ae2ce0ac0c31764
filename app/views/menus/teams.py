"""Views and APIs of the team hierarchy (issue 8.3) area, registered with FAB."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
    from app.views.teams import DepartmentStructureModelView, TeamMemberModelView, TeamModelView

    ab.add_view(TeamModelView, "Teams", label=_l("Teams"), icon="fa-users-cog",
                category="System", category_label=_l("System"), category_icon="fa-cogs")
    ab.add_view(TeamMemberModelView, "Team members", label=_l("Team members"), icon="fa-user-tag",
                category="System")
    ab.add_view(DepartmentStructureModelView, "Department structure", label=_l("Department structure"),
                icon="fa-project-diagram", category="System")
