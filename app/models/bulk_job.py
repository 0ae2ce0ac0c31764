"""Bulk job (批量操作): one action over a list's filtered set, processed in batches (issue 8.2).

The filter is stored as it was confirmed (FAB filter args), not as a list of ids, so a job of a
million rows costs one small row; the job re-reads its set in id order, batch by batch.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import utcnow
from app.models.user import CrmUser

JOB_STATUSES = ("queued", "running", "done", "failed")


class BulkJob(Model):
    __tablename__ = "bulk_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    user: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[user_id])
    target: Mapped[str] = mapped_column(String(32), nullable=False)  # customers, leads, tickets
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    params: Mapped[str] = mapped_column(Text, nullable=False, default="{}")  # JSON
    filters: Mapped[str] = mapped_column(Text, nullable=False, default="[]")  # JSON [[column, index, values]]
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Highest id processed: a restarted job continues after it instead of redoing work.
    last_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    # The first skipped/failed records with their reason (JSON list), for the report.
    report: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_bulk_job_user_created", "user_id", "created_at"),
        Index("ix_bulk_job_status", "status"),
        {"extend_existing": True},
    )

    @property
    def processed(self) -> int:
        return self.done + self.skipped + self.failed

    def __repr__(self) -> str:
        return f"#{self.id} {self.target}.{self.action}"
