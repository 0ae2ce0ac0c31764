"""Saved list views (保存的视图): a user's named filters, sort and page size of a list (issue 8.4).

`query` holds only the list's own URL arguments (FAB `_flt_*`, `_oc_*`, `_od_*`, `psize_*`), so
applying a view is opening the list with them. A shared view is visible to the owner's
department (and team, where teams exist), looked up at read time: moving a user moves what they see.
Pins are per user, so a colleague can pin a shared view too.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import utcnow
from app.models.user import CrmUser


class SavedView(Model):
    __tablename__ = "saved_view"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    user: Mapped[CrmUser] = relationship(CrmUser, foreign_keys=[user_id])
    view_name: Mapped[str] = mapped_column(String(64), nullable=False)  # FAB view class, e.g. CustomerModelView
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    query: Mapped[str] = mapped_column(Text, nullable=False, default="[]")  # JSON [[arg, value], …]
    shared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "view_name", "name", name="uq_saved_view_user_view_name"),
        Index("ix_saved_view_view_name", "view_name", "shared"),
        {"extend_existing": True},
    )

    def __repr__(self) -> str:
        return self.name


class SavedViewPin(Model):
    """A view pinned to one user's home page."""

    __tablename__ = "saved_view_pin"

    view_id: Mapped[int] = mapped_column(ForeignKey("saved_view.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        Index("ix_saved_view_pin_user", "user_id", "position"),
        {"extend_existing": True},
    )
