"""Scheduled-job bookkeeping: a lease row per job (one runner at a time) and a record per run."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import utcnow

RUN_STATUSES = ("running", "success", "failed", "skipped")


class JobLease(Model):
    """Held by one process while it runs a job; works alike on SQLite and PostgreSQL."""

    __tablename__ = "job_lease"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    # Paused by an administrator: scheduled runs are skipped (and recorded as such) until resumed.
    paused: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class JobRun(Model):
    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), nullable=False)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="running")
    trigger: Mapped[str] = mapped_column(String(16), nullable=False, default="schedule")
    runner: Mapped[str | None] = mapped_column(String(128))
    counts: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_job_run_job_started", "job_id", "started_at"), {"extend_existing": True})
