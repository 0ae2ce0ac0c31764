"""Plans (套餐): monthly fee, allowances and overage rates."""

from __future__ import annotations

from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import MONEY, RATE, TimestampMixin

PLAN_TYPES = ("mobile", "broadband", "fusion")


class Plan(TimestampMixin, Model):
    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    plan_type: Mapped[str] = mapped_column(String(16), nullable=False, default="mobile")
    monthly_fee: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    voice_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sms_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    data_mb: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    voice_overage_rate: Mapped[Decimal] = mapped_column(RATE, nullable=False, default=Decimal("0.15"))
    data_overage_rate: Mapped[Decimal] = mapped_column(RATE, nullable=False, default=Decimal("5.00"))
    contract_months: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return self.name
