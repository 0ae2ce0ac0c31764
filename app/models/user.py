"""The FAB user, extended with the department that scopes an agent's queue."""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.department import Department
from app.models.team import Team


class CrmUser(User):
    __tablename__ = "ab_user"

    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    # Two paths join ab_user and department (department.head_user_id too): name the one meant here.
    department: Mapped[Department | None] = relationship(Department, foreign_keys=[department_id])
    # The user's team (issue 8.3); moving a user is `services.teams.move_user` (audited).
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("team.id", name="fk_ab_user_team_id", ondelete="SET NULL"), index=True)
    team: Mapped[Team | None] = relationship(Team, foreign_keys=[team_id])
