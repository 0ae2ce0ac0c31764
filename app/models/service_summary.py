"""Daily summary behind the service statistics (issue 4, points 9 and 12).

Only facts that can no longer change once their day is over are summarised, so a closed day read
from here is always equal to the live count:
- `TicketDaily` — tickets created per local day × channel × type (a ticket's channel, type and
  creation time are never edited);
- `TicketCsatDaily` — ticket surveys answered per local day (a survey is answered once).
Figures that move after their day (a ticket reopened or transferred later, an SLA breached later,
the customer's current plan or city) and the exact p90 handling time are computed live, with the
indexes below. `ServiceSummaryState` records which closed days the summary holds: days outside
that range, and today, are always counted live.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.sla import TicketSla
from app.models.ticket import Ticket

# Live statistics over a period read tickets by `resolved_at` (handling time, first contact): an
# index range scan instead of the whole table. On PostgreSQL it carries the other columns those
# figures need, so the scan never visits the table (index-only). Declared here, with the summary
# it serves; migration 0022 creates it.
Index("ix_ticket_resolved_at", Ticket.resolved_at,
      postgresql_include=["created_at", "ticket_type", "transfer_count", "reopen_count"])
# "Transferred at least once" among the tickets created in a period: a partial index holds only
# those (a minority), so the count is a short index scan at any period length.
Index("ix_ticket_transferred_created", Ticket.created_at,
      postgresql_where=Ticket.transfer_count > 0, sqlite_where=Ticket.transfer_count > 0)

# Complaint rates count complaints created in the period by the customer's plan and city: the
# partial index holds complaints only, with the customer id, so only the customer look-ups remain.
Index("ix_ticket_complaint_created", Ticket.created_at,
      postgresql_include=["customer_id"], postgresql_where=Ticket.ticket_type == "complaint",
      sqlite_where=Ticket.ticket_type == "complaint")

# SLA breach rate of the tickets created in a period reads `ticket_sla` by `started_at`: with the
# type and both breach marks in the index, PostgreSQL answers it from the index alone.
Index("ix_ticket_sla_started_breaches", TicketSla.started_at,
      postgresql_include=["ticket_type", "response_breached_at", "resolve_breaches"])


class TicketDaily(Model):
    __tablename__ = "ticket_daily"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # local day (CRM_TIMEZONE) of created_at
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    ticket_type: Mapped[str] = mapped_column(String(24), primary_key=True)
    tickets: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class TicketCsatDaily(Model):
    __tablename__ = "ticket_csat_daily"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # local day of survey.answered_at
    answers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    score_sum: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    happy: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # scores 4 and 5


class ServiceSummaryState(Model):
    """One row (id 1): the closed local days [first_day, last_day] the summary tables hold."""

    __tablename__ = "service_summary_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    last_day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    offset_minutes: Mapped[int] = mapped_column(Integer, nullable=False)  # local - UTC when built
    rebuilt_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
