"""Contact log (跟进记录): one contact with a lead, an opportunity or a customer."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import utcnow
from app.models.care import CareTask
from app.models.customer import Customer
from app.models.lead import Lead
from app.models.opportunity import Opportunity
from app.models.user import CrmUser

CONTACT_METHODS = ("phone", "sms", "email", "face_to_face", "wechat")


class ContactLog(Model):
    __tablename__ = "contact_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    lead: Mapped[Lead | None] = relationship(Lead)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity.id"))
    opportunity: Mapped[Opportunity | None] = relationship(Opportunity)
    # Set for a customer's log and for an opportunity's (its customer), so the 360 page finds both.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    customer: Mapped[Customer | None] = relationship(Customer)
    contacted_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    feedback: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(String(255))
    next_contact_date: Mapped[dt.date | None] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    owner: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[owner_id])
    follow_up_task_id: Mapped[int | None] = mapped_column(ForeignKey("care_task.id"))
    follow_up_task: Mapped[CareTask | None] = relationship(CareTask)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    # server_default: the seed bulk-loads rows without naming this column.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_contact_log_owner_at", "owner_id", "contacted_at"),
        # Deleting a care task (a merge folds duplicates) checks this key: unindexed, every delete scans.
        Index("ix_contact_log_follow_up_task_id", "follow_up_task_id"),
        Index("ix_contact_log_lead", "lead_id"),
        Index("ix_contact_log_opportunity", "opportunity_id"),
        Index("ix_contact_log_customer", "customer_id"),
        {"extend_existing": True},
    )

    @property
    def method_label(self) -> str:
        from app.services.sales import METHOD_LABELS

        return str(METHOD_LABELS.get(self.method, self.method))

    def __repr__(self) -> str:
        return f"#{self.id} {self.method_label} {self.contacted_at:%Y-%m-%d}"
