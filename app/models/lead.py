"""Lead (线索): a prospect before they are a customer; screened by a priority score."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import TimestampMixin
from app.models.customer import Customer
from app.models.plan import Plan
from app.models.user import CrmUser

LEAD_SOURCES = ("walk_in", "hotline", "website", "social", "partner", "campaign")
LEAD_STATUSES = ("new", "contacted", "qualified", "disqualified", "converted")


class Lead(TimestampMixin, Model):
    __tablename__ = "lead"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    mobile: Mapped[str | None] = mapped_column(String(11))
    # Like the customer's: ciphertext, HMAC blind index (duplicate check) and the masked form.
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    id_number_bidx: Mapped[str | None] = mapped_column(String(64))
    id_number_masked: Mapped[str | None] = mapped_column(String(18))
    email: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    interest_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))
    interest_plan: Mapped[Plan | None] = relationship(Plan)
    interest: Mapped[str | None] = mapped_column(String(128))  # product / need in the prospect's words
    notes: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    owner: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[owner_id])
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="new")
    disqualify_reason: Mapped[str | None] = mapped_column(String(255))
    priority_score: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_activity_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    customer: Mapped[Customer | None] = relationship(Customer)
    converted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # True when conversion created the customer (a "new customer" on the sales dashboard).
    created_customer: Mapped[bool | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_lead_owner_status_score", "owner_id", "status", "priority_score"),
        Index("ix_lead_status_score", "status", "priority_score"),
        Index("ix_lead_mobile", "mobile"),
        Index("ix_lead_id_number_bidx", "id_number_bidx"),
        Index("ix_lead_customer_id", "customer_id"),
        Index("ix_lead_converted_at", "converted_at"),
        # The lead list of one salesperson, best first: read backwards, the first page is an index scan
        # instead of a sort of all of the owner's leads (65,000 at 1M customers). Migration 0025.
        Index("ix_lead_owner_score_id", "owner_id", "priority_score", "id"),
        {"extend_existing": True},
    )

    @property
    def mobile_masked(self) -> str:
        from app.services.masking import mask_mobile

        return mask_mobile(self.mobile) if self.mobile else ""

    @property
    def source_label(self) -> str:
        from app.services.sales import SOURCE_LABELS

        return str(SOURCE_LABELS.get(self.source, self.source))

    @property
    def status_label(self) -> str:
        from app.services.sales import LEAD_STATUS_LABELS

        return str(LEAD_STATUS_LABELS.get(self.status, self.status))

    def __repr__(self) -> str:
        return f"{self.name} ({self.mobile_masked})"
