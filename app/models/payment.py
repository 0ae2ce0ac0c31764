"""Payments (缴费) against bills."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import MONEY, utcnow
from app.models.bill import Bill
from app.models.customer import Customer
from app.models.user import CrmUser

PAYMENT_METHODS = ("cash", "bank", "alipay", "wechat", "card")


class Payment(Model):
    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    customer: Mapped[Customer] = relationship(Customer)
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bill.id"))
    bill: Mapped[Bill | None] = relationship(Bill, backref="payments")
    paid_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    operator: Mapped[CrmUser | None] = relationship(CrmUser)
    reference: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_payment_customer_paid", "customer_id", "paid_at"),
        Index("ix_payment_bill_id", "bill_id"),
        {"extend_existing": True},
    )
