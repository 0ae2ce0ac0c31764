"""Departments (客服, 技术, 计费, 市场): agents' queues and customers' home department."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from app.models.user import CrmUser


class Department(Model):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    # The department head sees every record of the department's users and of its sub-departments
    # (issue 8.3). use_alter: ab_user.department_id points back here.
    head_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", name="fk_department_head_user_id", ondelete="SET NULL", use_alter=True), index=True)

    parent: Mapped[Department | None] = relationship("Department", remote_side=[id])
    head: Mapped[CrmUser | None] = relationship("CrmUser", foreign_keys=[head_user_id])

    def __repr__(self) -> str:
        return self.name
