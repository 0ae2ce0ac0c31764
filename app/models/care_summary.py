"""Care task counts per assignee × due day × status, behind the managers' team page (issue 5.9).

The team page's figures (tasks due in the window and how many are done, open and overdue tasks per
person) are sums over these rows instead of over every open and recent task (126,720 open tasks at a
million customers: 181 ms a page).

The rows are kept by database triggers on `care_task` (migration 0023), in the transaction of the
write itself: every writer is covered — the daily run's set-based INSERT, completing, rescheduling,
reassigning, campaign launches and cancellations, contact-log and bulk follow-ups, customer merge,
imports and seeds — without each one having to remember it. On PostgreSQL the triggers are
per statement (one grouped INSERT from the statement's transition tables, so the daily run stays
set-based); on SQLite per row.

The triggers only ever INSERT a change (`n` = +k or −k for a key), never update a shared row:
two transactions never wait for each other on a summary row, so a daily run holding its rows for
seconds cannot block (or deadlock with) a salesperson completing a task. A key's count is the sum
of its rows; `app.services.care_summary.compact` folds each key's rows into one now and then.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import BigInteger, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.care import CareTask


class CareTaskDaily(Model):
    __tablename__ = "care_task_daily"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # The task's assignee (NULL: unassigned). No foreign key: a user is not kept from being deleted
    # by a summary row whose tasks have all moved to someone else.
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    n: Mapped[int] = mapped_column(Integer, nullable=False)  # a change of the key's task count (+/−)

    __table_args__ = (
        # The team page reads every open key and the window's keys of each status: two range scans.
        Index("ix_care_task_daily_status_due", "status", "due_date"),
        # A logical restore loads this table's rows last (app/services/backup.py): loading care_task
        # fires the triggers, whose rows the backup's own rows replace.
        {"extend_existing": True, "info": {"written_by_triggers": True}},
    )


# The rows are written by care_task's triggers, so whatever empties tables children-first (the
# tests between cases) must empty care_task before its summary: declared as a dependency, as a
# foreign key would.
CareTask.__table__.add_is_dependent_on(CareTaskDaily.__table__)
