"""Monthly usage (用量) per line: voice minutes, SMS, data."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Date, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.customer import Customer
from app.models.subscription import Subscription


class UsageRecord(Model):
    __tablename__ = "usage_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    customer: Mapped[Customer] = relationship(Customer)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"), nullable=False)
    subscription: Mapped[Subscription] = relationship(Subscription)
    # First day of the calendar month the usage belongs to.
    month: Mapped[dt.date] = mapped_column(Date, nullable=False)
    voice_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sms_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    data_mb: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    __table_args__ = (
        UniqueConstraint("subscription_id", "month", name="uq_usage_subscription_month"),
        Index("ix_usage_customer_month", "customer_id", "month"),
        {"extend_existing": True},
    )
