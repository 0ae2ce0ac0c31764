"""Marketing campaigns (营销活动, issue 5.6): a target defined by filters, a launch, its contacts.

`Campaign.filters` is JSON checked by `app.services.campaign_targeting.clean_filters`; the one
targeting query turns it into SQL (preview count, sample and launch share it).

`CampaignLaunch` is the launch's progress: the job works through the targeted customers in batches
ordered by customer id and remembers the last id done (`cursor`), so it resumes where it stopped.
`CampaignContact` is unique on (campaign_id, customer_id): a rerun never contacts anyone twice. It
also carries the attribution (responded / converted) filled by the attribution job.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import TimestampMixin, utcnow
from app.models.customer import Customer
from app.models.user import CrmUser

CAMPAIGN_CHANNELS = ("call", "sms", "email")  # call: CareTask rows; sms/email: the outbox
CAMPAIGN_STATUSES = ("draft", "launched", "running", "done", "cancelled")
LAUNCH_STATUSES = ("pending", "running", "done", "cancelled")
CONVERSION_KINDS = ("order", "plan_change", "subscription")


class Campaign(TimestampMixin, Model):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    filters: Mapped[str] = mapped_column(Text, nullable=False, default="{}")  # JSON, see the service
    start_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    channel: Mapped[str] = mapped_column(String(8), nullable=False, default="call")
    # Messages: the message template's code (rendered per customer when sent). Calls: the offer text
    # is the call script shown on the task.
    template_code: Mapped[str | None] = mapped_column(String(32))
    offer: Mapped[str | None] = mapped_column(Text)
    conversion_days: Mapped[int] = mapped_column(Integer, nullable=False, default=30)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    created_by: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[created_by_id])
    launched_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    launched_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The attribution job's watermark: contacts were attributed up to this instant.
    attributed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_campaign_status", "status"),
        {"extend_existing": True},
    )

    def __repr__(self) -> str:
        return self.name


class CampaignLaunch(Model):
    __tablename__ = "campaign_launch"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), nullable=False)
    campaign: Mapped[Campaign] = relationship(Campaign, backref="launches")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    total: Mapped[int | None] = mapped_column(Integer)  # targeted customers when the launch started
    processed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # contacts created
    batches: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cursor: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # last customer id done
    batch_size: Mapped[int] = mapped_column(Integer, nullable=False, default=1000)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("campaign_id", name="uq_campaign_launch_campaign_id"),
        {"extend_existing": True},
    )

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        if not self.total:
            return 0
        return min(100, int(100 * self.processed / self.total))


class CampaignContact(Model):
    __tablename__ = "campaign_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False)
    customer: Mapped[Customer] = relationship(Customer)
    contacted_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    contact_day: Mapped[dt.date] = mapped_column(Date, nullable=False)  # local business day (report)
    window_ends_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)  # conversion window
    responded_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    converted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    conversion_kind: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id", name="uq_campaign_contact"),
        # The frequency cap counts a customer's contacts in a month.
        Index("ix_campaign_contact_customer_at", "customer_id", "contacted_at"),
        Index("ix_campaign_contact_campaign_day", "campaign_id", "contact_day"),
        {"extend_existing": True},
    )
