"""Opportunity (商机): a deal in the pipeline, potential → intent → negotiation → won / lost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import MONEY, TimestampMixin, utcnow
from app.models.customer import Customer
from app.models.lead import Lead
from app.models.plan import Plan
from app.models.user import CrmUser

STAGES = ("potential", "intent", "negotiation", "won", "lost")
FUNNEL_RANK = {"potential": 0, "intent": 1, "negotiation": 2, "won": 3}
OPEN_STAGES = ("potential", "intent", "negotiation")


class Opportunity(TimestampMixin, Model):
    __tablename__ = "opportunity"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    customer: Mapped[Customer] = relationship(Customer)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    lead: Mapped[Lead | None] = relationship(Lead)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    owner: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[owner_id])
    stage: Mapped[str] = mapped_column(String(16), nullable=False, default="potential")
    expected_revenue: Mapped[Decimal] = mapped_column(MONEY, nullable=False, default=Decimal("0.00"))
    expected_close_date: Mapped[dt.date | None] = mapped_column(Date)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))
    plan: Mapped[Plan | None] = relationship(Plan)
    products: Mapped[str | None] = mapped_column(String(255))
    lost_reason: Mapped[str | None] = mapped_column(String(255))
    stage_entered_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Furthest funnel stage reached (0 potential, 1 intent, 2 negotiation, 3 won), kept by every move:
    # the funnel is one scan of this table instead of a distinct count over the stage changes.
    reached_rank: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_opportunity_owner_stage", "owner_id", "stage"),
        # Covering indexes of the dashboard: won/lost by close time, and the funnel by creation time.
        Index("ix_opportunity_stage_closed", "stage", "closed_at", "owner_id", "expected_revenue", "lost_reason"),
        Index("ix_opportunity_customer_id", "customer_id"),
        Index("ix_opportunity_lead_id", "lead_id"),
        Index("ix_opportunity_created_at", "created_at", "owner_id", "reached_rank"),
        # The board's columns of one owner: open stages by expected close date, won/lost newest first
        # (read backwards) — each column's first cards are an index scan, not a sort of thousands.
        # The revenue rides along so the per-stage totals read the index only. Migration 0025.
        Index("ix_opportunity_owner_stage_close_date", "owner_id", "stage", "expected_close_date", "id",
              postgresql_include=["expected_revenue"]),
        Index("ix_opportunity_owner_stage_closed_at", "owner_id", "stage", "closed_at", "id"),
        {"extend_existing": True},
    )

    @property
    def stage_label(self) -> str:
        from app.services.sales import STAGE_LABELS

        return str(STAGE_LABELS.get(self.stage, self.stage))

    def __repr__(self) -> str:
        return f"#{self.id} {self.name}"


class OpportunityStageChange(Model):
    """One row per stage move: who, when, from, to."""

    __tablename__ = "opportunity_stage_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id"), nullable=False)
    opportunity: Mapped[Opportunity] = relationship(Opportunity, backref="stage_changes")
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16), nullable=False)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    changed_by: Mapped[CrmUser | None] = relationship(CrmUser)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    note: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (
        Index("ix_opportunity_stage_change_opp", "opportunity_id", "changed_at"),
        Index("ix_opportunity_stage_change_to", "to_stage", "opportunity_id"),
        {"extend_existing": True},
    )
