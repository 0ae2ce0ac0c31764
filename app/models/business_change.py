"""Business changes (业务变更): an append-only history written by the services that act."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import utcnow
from app.models.customer import Customer
from app.models.user import CrmUser

CHANGE_TYPES = (
    "open",
    "plan_change",
    "vas_subscribe",
    "vas_unsubscribe",
    "suspend",
    "resume",
    "close",
    "profile_update",
    "merge",
)


class BusinessChange(Model):
    __tablename__ = "business_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    customer: Mapped[Customer] = relationship(Customer)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"))
    change_type: Mapped[str] = mapped_column(String(24), nullable=False)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    effective_date: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    operator: Mapped[CrmUser | None] = relationship(CrmUser)
    reason: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        Index("ix_business_change_customer_created", "customer_id", "created_at"),
        {"extend_existing": True},
    )
