"""Customer care (客户关怀): configurable rules and the tasks (回访/关怀待办) they create.

A rule says whom it targets (segment, plan type, tenure, city), when it fires (its `kind`, a class
in `app.services.care_rules.KINDS`, with JSON `params`), what it does (`action`: a task for a
person now; message actions later), how far ahead (`lead_days`) and for which role.

`CareTask` is unique on (customer_id, rule_id, occurrence_key): the daily run inserts with
ON CONFLICT DO NOTHING, so a rerun, a restart or a second process never creates a duplicate.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import TimestampMixin, utcnow
from app.models.customer import Customer
from app.models.user import CrmUser

CARE_ACTIONS = ("task", "sms", "email")  # sms/email: the outbox, template code = rule code
TASK_STATUSES = ("open", "done", "cancelled")
TASK_OUTCOMES = ("reached", "not_reached", "refused", "wants_offer", "complaint")
TASK_PRIORITIES = ("normal", "high")


class CareRule(TimestampMixin, Model):
    __tablename__ = "care_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    # Shipped rules store English msgids here and in `call_script`; pages translate them.
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    target_segment: Mapped[str | None] = mapped_column(String(16))
    target_plan_type: Mapped[str | None] = mapped_column(String(16))
    target_city: Mapped[str | None] = mapped_column(String(32))
    min_tenure_days: Mapped[int | None] = mapped_column(Integer)
    params: Mapped[str] = mapped_column(Text, nullable=False, default="{}")  # JSON, checked by the kind
    action: Mapped[str] = mapped_column(String(16), nullable=False, default="task")
    lead_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    owner_role: Mapped[str] = mapped_column(String(16), nullable=False, default="Sales")
    call_script: Mapped[str | None] = mapped_column(Text)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    retry_days: Mapped[int] = mapped_column(Integer, nullable=False, default=2)
    # Watermark of the daily run: every day up to this one has been evaluated for this rule.
    covered_through: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        from flask_babel import gettext

        return gettext(self.name)


class CareTask(Model):
    __tablename__ = "care_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Rule tasks have a rule and a customer; a follow-up from a sales contact log (issue 3) has
    # neither necessarily: it names its source (`source_type` lead/opportunity/customer + id) and a title.
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("care_rule.id"))
    rule: Mapped[CareRule | None] = relationship(CareRule)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    customer: Mapped[Customer | None] = relationship(Customer)
    source_type: Mapped[str | None] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(255))
    # Which occurrence of the rule this is for the customer (e.g. "d7", "2026", "exp:2026-12-31:30").
    occurrence_key: Mapped[str] = mapped_column(String(48), nullable=False)
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    assignee: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[assignee_id])
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    priority: Mapped[str] = mapped_column(String(16), nullable=False, default="normal")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    outcome: Mapped[str | None] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("customer_id", "rule_id", "occurrence_key", name="uq_care_task_occurrence"),
        # The team page lists the company's open tasks by due date and id, LIMIT 200: id in the index
        # spares a sort of every task due the same day (120,000 at 1M customers: 223 ms → 0.3 ms).
        Index("ix_care_task_status_due", "status", "due_date", "id"),
        Index("ix_care_task_rule_id", "rule_id"),
        {"extend_existing": True},
    )

    def __repr__(self) -> str:
        return f"#{self.id} {self.rule} · {self.due_date}"


# An agenda tab reads one person's open tasks of a day (or a range) in due date, priority ("high" sorts
# before "normal") and id order, LIMIT 200: with the sort in the index it reads 200 entries, not the tens of thousands a
# salesperson with a big book can have open (1M customers: 541 ms → a few ms).
Index("ix_care_task_agenda", CareTask.assignee_id, CareTask.status, CareTask.due_date,
      CareTask.priority, CareTask.id)
