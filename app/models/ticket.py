"""Service-desk tickets (工单): one queue for every channel, with timeline, transfers and attachments.

- `Ticket` — the ticket itself. `status` moves only through `app.services.tickets` (one legal
  transition table). `department_id` is the queue it sits in; `assignee_id` the agent working it
  (None = the department's unassigned queue).
- `TicketEvent` — the timeline: every note, customer reply, status change, assignment, transfer,
  attachment, with who (`actor_id`, None = system) and when (`at`).
- `TicketTransfer` — one row per cross-department transfer, with the mandatory hand-over note.
- `TicketDepartmentTime` — one row per stay of a ticket in a department (`entered_at`..`left_at`,
  `seconds` filled when it leaves); the open stay has `left_at` NULL.
- `TicketAttachment` — metadata of a file stored under the instance directory by a random name.
- `TicketRoutingRule` — type/category/keywords → department + priority, first match by `position`.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import TimestampMixin, utcnow
from app.models.customer import Customer
from app.models.department import Department
from app.models.subscription import Subscription
from app.models.user import CrmUser

CHANNELS = ("phone", "email", "web", "social", "walk_in")
TYPES = ("consultation", "complaint", "fault", "billing_dispute", "plan_change")
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "assigned", "in_progress", "waiting_customer", "transferred", "resolved", "closed",
            "reopened")
OPEN_STATUSES = ("new", "assigned", "in_progress", "waiting_customer", "transferred", "reopened")
EVENT_KINDS = ("created", "note", "customer_reply", "status", "assign", "transfer", "attachment",
               "complaint")


class Ticket(TimestampMixin, Model):
    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(24), nullable=False, unique=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    ticket_type: Mapped[str] = mapped_column(String(24), nullable=False)
    category: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(8), nullable=False, default="normal")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="new")
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    customer: Mapped[Customer] = relationship(Customer)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id"))
    subscription: Mapped[Subscription | None] = relationship(Subscription)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    department: Mapped[Department] = relationship(Department)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    assignee: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[assignee_id])
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    created_by: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[created_by_id])
    # Complaint handling (投诉处理过程 / 处理结果): both required before a complaint may be resolved.
    complaint_process: Mapped[str | None] = mapped_column(Text)
    complaint_result: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)  # what solved it (any type)
    # Milestones (naive UTC), kept by the ticket service for statistics and SLA.
    assigned_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    department_since: Mapped[dt.datetime | None] = mapped_column(DateTime)
    transfer_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_ticket_dept_status_created", "department_id", "status", "created_at"),
        Index("ix_ticket_assignee_status", "assignee_id", "status"),
        Index("ix_ticket_customer_created", "customer_id", "created_at"),
        Index("ix_ticket_created_at", "created_at"),
        Index("ix_ticket_status_created", "status", "created_at"),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __repr__(self) -> str:
        return self.ticket_no


# The work queues (an agent's own, a department's unassigned) show the open tickets by priority, then
# oldest first. The service reads each priority's oldest tickets from this partial index (open tickets
# only) instead of sorting all of an agent's ~8,000 open tickets for a page of 100. Migration 0025.
Index("ix_ticket_open_queue", Ticket.assignee_id, Ticket.priority, Ticket.created_at, Ticket.id,
      postgresql_where=Ticket.status.in_(OPEN_STATUSES), sqlite_where=Ticket.status.in_(OPEN_STATUSES))


class TicketEvent(Model):
    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), nullable=False)
    ticket: Mapped[Ticket] = relationship(Ticket)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    actor: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[actor_id])
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    from_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    to_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    assignee: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[assignee_id])
    body: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_ticket_event_ticket_at", "ticket_id", "at"),)


class TicketTransfer(Model):
    __tablename__ = "ticket_transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), nullable=False)
    ticket: Mapped[Ticket] = relationship(Ticket)
    from_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    from_department: Mapped[Department] = relationship(Department, foreign_keys=[from_department_id])
    to_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    to_department: Mapped[Department] = relationship(Department, foreign_keys=[to_department_id])
    note: Mapped[str] = mapped_column(Text, nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    actor: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[actor_id])

    __table_args__ = (
        Index("ix_ticket_transfer_ticket", "ticket_id"),
        Index("ix_ticket_transfer_at", "at"),
    )


class TicketDepartmentTime(Model):
    __tablename__ = "ticket_department_time"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), nullable=False)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    department: Mapped[Department] = relationship(Department)
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    left_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    seconds: Mapped[int | None] = mapped_column(Integer)  # left_at - entered_at, set on leaving

    __table_args__ = (Index("ix_ticket_department_time_ticket", "ticket_id", "entered_at"),)


class TicketAttachment(Model):
    __tablename__ = "ticket_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), nullable=False)
    original_name: Mapped[str] = mapped_column(String(200), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))

    __table_args__ = (Index("ix_ticket_attachment_ticket", "ticket_id"),)


class TicketRoutingRule(TimestampMixin, Model):
    __tablename__ = "ticket_routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)  # shipped rules: English msgid
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=100)  # lower = first
    ticket_type: Mapped[str | None] = mapped_column(String(24))  # None = any type
    category: Mapped[str | None] = mapped_column(String(64))  # None = any category
    keywords: Mapped[str | None] = mapped_column(Text)  # comma-separated; any one in subject/description
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    department: Mapped[Department] = relationship(Department)
    priority: Mapped[str | None] = mapped_column(String(8))  # None = keep the requested priority
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        from flask_babel import gettext

        return gettext(self.name)
