"""Customer tags (客户标签): free labels a bulk action or a user puts on customers (issue 8.2)."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import utcnow

# Link table: a customer has a tag at most once (the primary key), so tagging twice is harmless.
customer_tag = Table(
    "customer_tag",
    Model.metadata,
    Column("customer_id", Integer, ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", DateTime, nullable=False, default=utcnow),
    Index("ix_customer_tag_tag_id", "tag_id", "customer_id"),
    extend_existing=True,
)


class Tag(Model):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("name", name="uq_tag_name"), {"extend_existing": True})

    def __repr__(self) -> str:
        return self.name
