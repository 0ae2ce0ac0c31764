"""Analytics (数据分析): monthly value-segment snapshots, churn model versions and churn scores.

The customer's current segment, value score, at-risk flag and the time they were computed live on
`customer` itself (set-based job in `app.services.segments`); `SegmentSnapshot` keeps one row per
customer and month so distribution and month-over-month movement can be reported.
`ChurnModelVersion` keeps every trained model (its pickled pipeline and its metrics);
`ChurnScore` is the latest score of each customer with the model's top 3 reasons (JSON).
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import utcnow
from app.models.customer import Customer


class SegmentSnapshot(Model):
    """A customer's segment in a calendar month (the last computation of that month wins)."""

    __tablename__ = "segment_snapshot"

    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # first day of the month
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    segment: Mapped[str] = mapped_column(String(16), nullable=False)
    value_score: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    at_risk: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    __table_args__ = (
        Index("ix_segment_snapshot_month_segment", "month", "segment"),
        Index("ix_segment_snapshot_customer_id", "customer_id"),
        {"extend_existing": True},
    )


class ChurnModelVersion(Model):
    __tablename__ = "churn_model_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    algorithm: Mapped[str] = mapped_column(String(32), nullable=False)  # "logistic" or "gradient_boosting"
    roc_auc: Mapped[float | None] = mapped_column(Float)
    pr_auc: Mapped[float | None] = mapped_column(Float)
    # JSON: every candidate's cross-validated scores, sample counts, feature list, settings.
    metrics: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    samples: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    positives: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # joblib pickle of the fitted pipeline; loaded only when scoring
    artifact: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    trained_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    trained_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = ({"extend_existing": True},)

    def __repr__(self) -> str:
        return f"v{self.version} {self.algorithm}"


class ChurnScore(Model):
    """The latest churn probability of a customer, from the active model, with its top reasons."""

    __tablename__ = "churn_score"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    customer: Mapped[Customer] = relationship(Customer)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("churn_model_version.id"), nullable=False)
    model_version: Mapped[ChurnModelVersion] = relationship(ChurnModelVersion)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    # JSON list of up to 3 {"feature": code, "value": raw value} in order of contribution.
    reasons: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    scored_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        Index("ix_churn_score_score", "score"),
        Index("ix_churn_score_model_version_id", "model_version_id"),
        {"extend_existing": True},
    )
