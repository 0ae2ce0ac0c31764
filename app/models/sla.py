"""Service levels (SLA) of tickets: the policy per ticket type × priority and each ticket's clocks.

`SlaPolicy` holds the targets in minutes (response and resolution) and the share of a target after
which a warning is raised. `TicketSla` is one row per ticket: the due times (moved forward by the
time spent waiting for the customer), and one timestamp column per event that may happen once —
warning, breach and escalation of the response and of the resolution clock. The minute job sets
those columns with `UPDATE … WHERE <column> IS NULL`, so a rerun, a restart or a second runner
never marks or escalates the same breach twice.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import TimestampMixin, utcnow


class SlaPolicy(TimestampMixin, Model):
    __tablename__ = "sla_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_type: Mapped[str] = mapped_column(String(32), nullable=False)
    priority: Mapped[str] = mapped_column(String(16), nullable=False)
    response_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    resolve_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    warn_percent: Mapped[int] = mapped_column(Integer, nullable=False, default=80)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("ticket_type", "priority", name="uq_sla_policy_type_priority"),)

    def __repr__(self) -> str:
        return f"{self.ticket_type}/{self.priority}"


class TicketSla(Model):
    __tablename__ = "ticket_sla"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False,
                                           unique=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policy.id", ondelete="SET NULL"))
    ticket_type: Mapped[str] = mapped_column(String(24), nullable=False)  # copied: statistics read this table alone
    response_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    resolve_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    # Due and warning times; each pause moves all four forward by its length.
    response_warn_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    response_due: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    resolve_warn_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    resolve_due: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    paused_since: Mapped[dt.datetime | None] = mapped_column(DateTime)
    paused_seconds: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    responded_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # resolved or closed
    response_warned_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolve_warned_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    response_breached_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolve_breached_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    response_escalated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolve_escalated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Resolution breaches over the ticket's life: a reopen clears the marks above for the new clock.
    resolve_breaches: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    escalated_to_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))

    __table_args__ = (
        # The minute job's look-ups: running clocks by due time.
        Index("ix_ticket_sla_open_response", "stopped_at", "responded_at", "response_warn_at"),
        Index("ix_ticket_sla_open_resolve", "stopped_at", "resolve_warn_at"),
        Index("ix_ticket_sla_started_at", "started_at"),
    )

    @property
    def breached(self) -> bool:
        return bool(self.response_breached_at or self.resolve_breached_at)

    @property
    def paused(self) -> bool:
        return self.paused_since is not None
