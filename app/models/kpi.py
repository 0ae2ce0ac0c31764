"""Pre-aggregated dashboard figures (issue 6.5): one row per refresh and kind of page.

The manager home page must answer in ≤ 300 ms at a million customers, which live aggregates over
bills, tickets and care tasks cannot. `app.services.kpi_refresh` computes every figure of a page in
one pass (a scheduled job every few minutes, or a manager's refresh button) and stores it here as
JSON; the pages read the newest row of their kind with one indexed query.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import utcnow

KPI_KINDS = ("manager", "customers", "churn_factors")


class KpiSnapshot(Model):
    __tablename__ = "kpi_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # one of KPI_KINDS
    as_of: Mapped[dt.date] = mapped_column(Date, nullable=False)  # the business day the figures describe
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    data: Mapped[str] = mapped_column(Text, nullable=False, default="{}")  # JSON, shape per kind

    __table_args__ = (
        Index("ix_kpi_snapshot_kind_computed_at", "kind", "computed_at"),
        {"extend_existing": True},
    )
