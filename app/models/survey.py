"""Satisfaction surveys (满意度回访): one single-use link per resolved ticket, answered without login.

Only the SHA-256 of the link's token is stored, so neither the database nor the `surveys` API can
give the link away; `Survey.token` / `Survey.url` exist on the object the issuing call returns.
Answering sets `answered_at` with `UPDATE … WHERE answered_at IS NULL`: a second answer, even a
concurrent one, is refused.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import utcnow

SUBJECT_TYPES = ("ticket",)


class Survey(Model):
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    subject_type: Mapped[str] = mapped_column(String(16), nullable=False)
    subject_id: Mapped[int] = mapped_column(Integer, nullable=False)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_survey_subject", "subject_type", "subject_id"),
        Index("ix_survey_answered_at", "answered_at"),
        Index("ix_survey_customer_id", "customer_id"),
    )

    # Set only on the object returned when the survey is issued (the token itself is not stored).
    token = None  # type: str | None

    @property
    def url(self) -> str | None:
        return f"/survey/{self.token}" if self.token else None

    def __repr__(self) -> str:
        return f"#{self.id} {self.subject_type}:{self.subject_id}"
