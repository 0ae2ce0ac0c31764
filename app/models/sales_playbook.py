"""Stage playbook (阶段打法): suggested actions per opportunity stage, and which were done."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import TimestampMixin, utcnow
from app.models.opportunity import Opportunity


class PlaybookAction(TimestampMixin, Model):
    __tablename__ = "sales_playbook_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    stage: Mapped[str] = mapped_column(String(16), nullable=False)
    # Shipped actions store English msgids; pages translate them. A manager's own text shows as typed.
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    material: Mapped[str | None] = mapped_column(String(255))
    due_days: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    # Orders whose discount exceeds this percentage need a manager's approval (shown on the page).
    discount_threshold: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        from flask_babel import gettext

        return gettext(self.title)


class PlaybookDone(Model):
    __tablename__ = "sales_playbook_done"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id"), nullable=False)
    opportunity: Mapped[Opportunity] = relationship(Opportunity)
    action_id: Mapped[int] = mapped_column(ForeignKey("sales_playbook_action.id"), nullable=False)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    done_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("opportunity_id", "action_id", name="uq_sales_playbook_done"),
        {"extend_existing": True},
    )
