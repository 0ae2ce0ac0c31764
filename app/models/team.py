"""Teams (班组): a named group of users inside a department, with a team lead (issue 8.3).

A team lead sees the records of the team's members; a department head (`Department.head_user_id`)
sees every user's records in the department subtree. The rule itself lives in
`app/security/access.py`; these tables only hold the structure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.department import Department

if TYPE_CHECKING:
    from app.models.user import CrmUser


class Team(Model):
    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("name", name="uq_team_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("department.id", name="fk_team_department_id"), index=True)
    # use_alter: ab_user.team_id points back here; the cycle is closed by a separate ALTER.
    lead_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", name="fk_team_lead_user_id", ondelete="SET NULL", use_alter=True), index=True)

    department: Mapped[Department | None] = relationship(Department)
    lead: Mapped[CrmUser | None] = relationship("CrmUser", foreign_keys=[lead_user_id])
    # Read-only: membership changes go through `services.teams.move_user` (audited).
    members: Mapped[list[CrmUser]] = relationship(
        "CrmUser", foreign_keys="CrmUser.team_id", viewonly=True, order_by="CrmUser.username")

    def __repr__(self) -> str:
        return self.name
