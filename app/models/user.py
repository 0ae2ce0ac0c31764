"""The FAB user, extended with the department that scopes an agent's queue."""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.department import Department


class CrmUser(User):
    __tablename__ = "ab_user"

    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    department: Mapped[Department | None] = relationship(Department)
