"""Imports (issue 8.1): a saved column mapping per kind, and one record per import run."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import utcnow

IMPORT_KINDS = ("customers", "leads", "plans")
RUN_STATUSES = ("uploaded", "running", "done", "failed", "dry_run")
POLICIES = ("skip", "create", "update")


class ImportMapping(Model):
    """A named file-column → field mapping, reused for the next file of the same layout."""

    __tablename__ = "import_mapping"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    # JSON object {file header: field name}
    columns: Mapped[str] = mapped_column(Text, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (Index("ux_import_mapping_kind_name", "kind", "name", unique=True), {"extend_existing": True})


class ImportRun(Model):
    """Who imported which file, how, with what outcome; the progress a page polls."""

    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="uploaded")
    dry_run: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    policy: Mapped[str] = mapped_column(String(8), nullable=False, default="skip")
    match_keys: Mapped[str] = mapped_column(String(64), nullable=False, default="id_number,mobile")
    # JSON {file header: field}; per-row choices JSON {row number: policy}
    mapping: Mapped[str | None] = mapped_column(Text)
    choices: Mapped[str | None] = mapped_column(Text)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    processed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # JSON list of [row, column, message]: the downloadable error report
    errors: Mapped[str | None] = mapped_column(Text)
    # JSON list of {row, id, before, after}: what each update-in-place changed
    changes: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    # The uploaded file between the upload and the run of the UI's preview steps; cleared after the run.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_import_run_user_created", "user_id", "created_at"), {"extend_existing": True})
