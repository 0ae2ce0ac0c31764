"""Daily sales summary (issue 3 point 10): the sales dashboard's figures, pre-aggregated per business day.

The dashboard must answer in ≤ 300 ms at a million customers; grouping 200,000 opportunities and
leads on every request does not. One row holds one figure of one business day (the operator's
calendar day, `CRM_TIMEZONE`) for one owner:

- `created`: opportunities created that day, by the furthest funnel stage they have reached
  (`reached_rank`), so a move of an old opportunity shifts a count on its creation day;
- `won`: opportunities won that day (`n`) and their expected revenue (`revenue`);
- `lost`: opportunities lost that day, by `lost_reason`;
- `new_customer`: leads converted that day into a newly created customer.

`app.services.sales_summary` keeps the rows exact in the transaction that changes an opportunity or a
lead, and can rebuild them all from the live tables (the `sales_summary` job).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import BigInteger, Date, Integer, Numeric, PrimaryKeyConstraint, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

METRICS = ("created", "won", "lost", "new_customer")
NO_OWNER = 0  # `owner_key` of records without an owner: a key column must not be NULL for the upsert


class SalesDaily(Model):
    __tablename__ = "sales_daily"

    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    metric: Mapped[str] = mapped_column(String(16), nullable=False)  # one of METRICS
    # The owner's user id, or NO_OWNER; no foreign key: a figure outlives nothing, it is rebuilt.
    owner_key: Mapped[int] = mapped_column(Integer, nullable=False)
    reached_rank: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)  # `created` only
    lost_reason: Mapped[str] = mapped_column(String(255), nullable=False, default="")  # `lost` only
    n: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    revenue: Mapped[Decimal] = mapped_column(Numeric(16, 2), nullable=False, default=Decimal("0.00"))  # `won`

    __table_args__ = (
        # Every dashboard query is one metric over a range of days: the key's prefix.
        PrimaryKeyConstraint("metric", "day", "owner_key", "reached_rank", "lost_reason", name="pk_sales_daily"),
        {"extend_existing": True},
    )
