"""Hardening (issue 7): sign-in attempts (lockout), the signed audit checkpoint, the field-key check."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import utcnow

LOGIN_OUTCOMES = ("success", "failure", "blocked")


class LoginAttempt(Model):
    """One sign-in attempt (form or API). Failures in a window lock the account and the address."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    ip: Mapped[str | None] = mapped_column(String(45))
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)

    __table_args__ = (
        Index("ix_login_attempt_username_created", "username", "created_at"),
        Index("ix_login_attempt_ip_created", "ip", "created_at"),
        {"extend_existing": True},
    )


class AuditCheckpoint(Model):
    """One row (id=1): the latest audit entry's id and hash, HMAC-signed with a key derived from
    CRM_FIELD_KEY. Kept by `audit.record` in the same transaction, so deleting the newest entries
    (a truncated tail, which leaves a valid chain) no longer goes unnoticed."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    entries: Mapped[int] = mapped_column(Integer, nullable=False)
    signature: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = ({"extend_existing": True},)


class FieldKeyCheck(Model):
    """One row (id=1): a known value encrypted with the field key. Start-up decrypts it, so a wrong
    CRM_FIELD_KEY stops the app with a clear error instead of writing data nobody can read."""

    __tablename__ = "field_key_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    check_value: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = ({"extend_existing": True},)
