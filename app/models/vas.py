"""Value-added services (增值业务): caller ID, ring-back tone, memberships, data packs."""

from __future__ import annotations

from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import MONEY, TimestampMixin


class ValueAddedService(TimestampMixin, Model):
    __tablename__ = "value_added_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    monthly_fee: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return self.name
