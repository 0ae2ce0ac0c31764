"""Subscriptions (订购关系): a customer's line on a plan, and the VAS on that line. TMF637."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import TimestampMixin
from app.models.customer import Customer
from app.models.plan import Plan
from app.models.vas import ValueAddedService

SUBSCRIPTION_STATUSES = ("active", "suspended", "terminated")


class Subscription(TimestampMixin, Model):
    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    customer: Mapped[Customer] = relationship(Customer, backref="subscriptions")
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), nullable=False)
    plan: Mapped[Plan] = relationship(Plan)
    number: Mapped[str] = mapped_column(String(20), nullable=False)
    effective_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    expiry_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    # server_default: the seed bulk-loads rows without naming this column.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_subscription_customer_id", "customer_id"),
        Index("ix_subscription_expiry_date", "expiry_date"),
        Index("ix_subscription_number", "number"),
        {"extend_existing": True},
    )

    def __repr__(self) -> str:
        return f"{self.number} · {self.plan}"


class SubscriptionVas(TimestampMixin, Model):
    """A VAS ordered on a line, with its own dates (增值业务订购)."""

    __tablename__ = "subscription_vas"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"), nullable=False)
    subscription: Mapped[Subscription] = relationship(Subscription, backref="vas_items")
    vas_id: Mapped[int] = mapped_column(ForeignKey("value_added_service.id"), nullable=False)
    vas: Mapped[ValueAddedService] = relationship(ValueAddedService)
    start_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")

    __table_args__ = (
        Index("ix_subscription_vas_subscription_id", "subscription_id"),
        {"extend_existing": True},
    )

    def __repr__(self) -> str:
        return str(self.vas)
