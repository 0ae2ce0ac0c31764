"""Monthly bills (账单) and their itemised lines (账单明细). TMF678."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.models.base import MONEY, utcnow
from app.models.customer import Customer

BILL_STATUSES = ("unpaid", "partial", "paid")
LINE_TYPES = ("base", "vas", "voice_overage", "data_overage", "other")


class Bill(Model):
    __tablename__ = "bill"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    customer: Mapped[Customer] = relationship(Customer)
    month: Mapped[dt.date] = mapped_column(Date, nullable=False)
    base_fee: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    vas_fee: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    voice_overage: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    data_overage: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    other_fee: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    paid_amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0"))
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="unpaid")
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("customer_id", "month", name="uq_bill_customer_month"),
        Index("ix_bill_status_due", "status", "due_date"),
        Index("ix_bill_month", "month"),
        {"extend_existing": True},
    )

    @property
    def outstanding(self) -> Decimal:
        return (self.total or Decimal("0")) - (self.paid_amount or Decimal("0"))

    def __repr__(self) -> str:
        return f"{self.month:%Y-%m} ¥{self.total}"


class BillLine(Model):
    __tablename__ = "bill_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id"), nullable=False)
    # Lines in the order they were entered (a plain backref leaves the order to the database).
    bill: Mapped[Bill] = relationship(Bill, backref=backref("lines", order_by="BillLine.id"))
    item_type: Mapped[str] = mapped_column(String(16), nullable=False)
    description: Mapped[str] = mapped_column(String(128), nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)

    __table_args__ = (Index("ix_bill_line_bill_id", "bill_id"), {"extend_existing": True})
