"""Shared column helpers for the CRM's models."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Numeric
from sqlalchemy.orm import Mapped, mapped_column

# Money is always Numeric(12,2) in the database and Decimal in Python, never float.
MONEY = Numeric(12, 2)
RATE = Numeric(8, 2)


def utcnow() -> dt.datetime:
    """Naive UTC timestamp: the same on SQLite and PostgreSQL `timestamp without time zone`."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, nullable=False
    )
