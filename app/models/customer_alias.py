"""Customer alias (客户别名): the id of a merged customer, pointing at the customer it was merged into.

The merged customer row is deleted by the merge (so search, uniqueness of ID number and mobile,
and lists see one customer); this row keeps old links (360 page, API, bookmarks, audit entries
naming the old id) resolvable. `survivor_id` is a foreign key to `customer.id`, so a later merge
of the survivor into a third customer moves these rows along like every other related record.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import utcnow


class CustomerAlias(Model):
    __tablename__ = "customer_alias"

    # Not a foreign key: the customer with this id no longer exists.
    old_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), nullable=False)
    merged_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))

    __table_args__ = (
        Index("ix_customer_alias_survivor_id", "survivor_id"),
        {"extend_existing": True},
    )
