"""Sales order (订单) for a won opportunity, with its lines (plans, VAS, devices)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.models.base import MONEY, TimestampMixin
from app.models.customer import Customer
from app.models.opportunity import Opportunity
from app.models.plan import Plan
from app.models.user import CrmUser
from app.models.vas import ValueAddedService

ORDER_STATES = ("draft", "submitted", "approved", "rejected", "delivered", "collected", "closed")
LINE_KINDS = ("plan", "vas", "device")


class SalesOrder(TimestampMixin, Model):
    __tablename__ = "sales_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id"), nullable=False)
    opportunity: Mapped[Opportunity] = relationship(Opportunity)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    customer: Mapped[Customer] = relationship(Customer)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    owner: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[owner_id])
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    total: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    list_total: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    notes: Mapped[str | None] = mapped_column(String(255))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    decided_by: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[decided_by_id])
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(String(255))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    state_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_sales_order_owner_state", "owner_id", "state"),
        Index("ix_sales_order_state", "state"),
        Index("ix_sales_order_opportunity", "opportunity_id"),
        Index("ix_sales_order_customer_id", "customer_id"),
        {"extend_existing": True},
    )

    @property
    def state_label(self) -> str:
        from app.services.sales import ORDER_STATE_LABELS

        return str(ORDER_STATE_LABELS.get(self.state, self.state))

    @property
    def discount_pct(self) -> Decimal:
        if not self.list_total:
            return Decimal("0")
        return ((self.list_total - self.total) * 100 / self.list_total).quantize(Decimal("0.1"))

    def __repr__(self) -> str:
        return f"#{self.id}"


class SalesOrderLine(Model):
    __tablename__ = "sales_order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), nullable=False)
    # Lines in the order they were entered (a plain backref leaves the order to the database).
    order: Mapped[SalesOrder] = relationship(SalesOrder, backref=backref("lines", order_by="SalesOrderLine.id"))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))
    plan: Mapped[Plan | None] = relationship(Plan)
    vas_id: Mapped[int | None] = mapped_column(ForeignKey("value_added_service.id"))
    vas: Mapped[ValueAddedService | None] = relationship(ValueAddedService)
    description: Mapped[str | None] = mapped_column(String(128))
    # For a new plan line: the number the line opens on when the order is collected.
    number: Mapped[str | None] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    unit_price: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    list_price: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"))

    __table_args__ = (
        Index("ix_sales_order_line_order", "order_id"),
        {"extend_existing": True},
    )

    @property
    def amount(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(Decimal("0.01"))
