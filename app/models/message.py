"""Messages to customers (TMF681 CommunicationMessage in spirit): templates and the outbox.

`MessageTemplate` is one text per (code, language): the shipped notifications (ticket_ack, …) and the
message of each care rule (code = the rule's code). Placeholders are `{{ name }}`; see
`app.services.templates`.

`OutboxMessage` is one message on one channel to one recipient. It is written in the transaction of
the business change that caused it and sent later by the `outbox_send` job, with retries; a
message that keeps failing ends as `failed` and stays visible (never deleted). Messages a daily
care run queues set-based carry `dedupe_key` (unique per customer).

Text is written at send time (`render_at_send`): the row keeps what to write — template code,
language, the customer, the source record (`source`/`source_id`: ticket, care rule, campaign) and
extra parameters (`context`, JSON) — and the sender renders it from the facts as they are then
(`app.services.message_render`), so a message held by quiet hours or retried never goes out with
stale facts. The rendered text stays on the row (`subject`, `body`, `rendered_at`): what was sent.
Rows queued before this existed hold their body already and are sent as they are.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import TimestampMixin, utcnow
from app.models.customer import LANGUAGES as LANGUAGES  # one list: a template per customer language
from app.models.customer import Customer

CHANNELS = ("sms", "email")
PURPOSES = ("service", "marketing")
MESSAGE_STATUSES = ("queued", "sending", "sent", "failed", "cancelled", "suppressed")


class MessageTemplate(TimestampMixin, Model):
    __tablename__ = "message_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False, default="zh")
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    purpose: Mapped[str] = mapped_column(String(16), nullable=False, default="service")
    # Comma-separated channels the message goes out on when the caller names none: "sms,email".
    channels: Mapped[str] = mapped_column(String(32), nullable=False, default="sms")
    subject: Mapped[str | None] = mapped_column(String(255))  # email subject
    body: Mapped[str] = mapped_column(Text, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("code", "language", name="uq_message_template_code_language"),
        {"extend_existing": True},
    )

    @property
    def channel_list(self) -> list[str]:
        return [c for c in (self.channels or "").split(",") if c in CHANNELS]

    @property
    def preview_link(self) -> str:
        """The list's link to the preview page."""
        from flask import url_for
        from flask_babel import gettext
        from markupsafe import Markup

        return Markup('<a href="{}">{}</a>').format(url_for("MessagePreviewView.show", pk=self.id), gettext("Preview"))

    def __repr__(self) -> str:
        return f"{self.code} ({self.language})"


class OutboxMessage(Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    recipient: Mapped[str | None] = mapped_column(String(120))
    subject: Mapped[str | None] = mapped_column(String(255))
    body: Mapped[str | None] = mapped_column(Text)  # None until rendered (see render_at_send)
    # Queued: the customer's language then; once rendered: the language of the template used.
    language: Mapped[str | None] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16), nullable=False, default="service")
    template_code: Mapped[str | None] = mapped_column(String(32))
    context: Mapped[str | None] = mapped_column(Text)  # JSON, for messages rendered when sent
    source: Mapped[str | None] = mapped_column(String(32))  # "ticket", "care_rule", "campaign", …
    source_id: Mapped[int | None] = mapped_column(Integer)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    customer: Mapped[Customer | None] = relationship(Customer)
    # Exactly-once key of generated messages, e.g. "care:<rule>:<occurrence>:sms" (unique per customer).
    dedupe_key: Mapped[str | None] = mapped_column(String(96))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    # Set when quiet hours held the message back: it may not go before this instant (UTC).
    send_after: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # True: the sender writes subject and body from current facts before each attempt. False (rows
    # queued before send-time rendering): the stored body is sent as it is.
    render_at_send: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=false())
    rendered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # when subject/body were written
    # The lease of the runner sending it: a crashed runner's claim expires and the message is retried.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("customer_id", "dedupe_key", name="uq_outbox_message_dedupe"),
        Index("ix_outbox_message_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_message_customer_id", "customer_id"),
        Index("ix_outbox_message_source", "source", "source_id"),
        Index("ix_outbox_message_created_at", "created_at"),
        {"extend_existing": True},
    )

    def __repr__(self) -> str:
        return f"#{self.id} {self.channel} {self.status}"
