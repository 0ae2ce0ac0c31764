"""Customer (客户): identity, contact, ownership, consent. TMF629/TMF632 in spirit."""

from __future__ import annotations

import contextlib
import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.ext.hybrid import Comparator, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import TimestampMixin
from app.models.department import Department
from app.models.plan import Plan
from app.models.user import CrmUser

GENDERS = ("M", "F")
STATUSES = ("active", "suspended", "closed")
SEGMENTS = ("high_value", "potential", "ordinary", "low_value")
CARRIERS = ("cmcc", "cucc", "ctcc", "cbn", "mvno", "unknown")
LANGUAGES = ("zh", "en")  # languages a customer is written to in (message templates exist per language)


class IdNumberComparator(Comparator):
    """`Customer.id_number == "110..."` compares blind indexes: exact search without decrypting."""

    def __eq__(self, other: object):  # noqa: ANN204
        from app.services.crypto import cipher
        from app.services.validation import FieldError, check_id_number

        raw = str(other or "")
        # An invalid number matches nothing: its index is not in the table.
        with contextlib.suppress(FieldError):
            raw = check_id_number(raw)
        return self.__clause_element__() == cipher().blind_index(raw)

    def __ne__(self, other: object):  # noqa: ANN204
        return ~self.__eq__(other)


class Customer(TimestampMixin, Model):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    gender: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    # The resident ID is never stored in clear: AES-256-GCM ciphertext, an HMAC blind index for
    # exact search, and the masked form (first 3 + last 4) so lists never need to decrypt.
    id_number_enc: Mapped[str] = mapped_column(Text, nullable=False)
    id_number_bidx: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    id_number_masked: Mapped[str] = mapped_column(String(18), nullable=False)
    mobile: Mapped[str] = mapped_column(String(11), nullable=False, unique=True)
    carrier: Mapped[str] = mapped_column(String(8), nullable=False, default="unknown")
    landline: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(32))
    segment: Mapped[str] = mapped_column(String(16), nullable=False, default="ordinary")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    owner: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[owner_id])
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    department: Mapped[Department | None] = relationship(Department)
    # Current main plan, kept by the subscription service so search by plan needs no join.
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))
    plan: Mapped[Plan | None] = relationship(Plan)
    consent_marketing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    consent_analytics: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The language messages to this customer are written in. A server default, so adding the column
    # to a million rows is a catalogue change on PostgreSQL and bulk loads that omit it get "zh".
    language: Mapped[str] = mapped_column(String(8), nullable=False, default="zh", server_default="zh")
    # Value segmentation (app.services.segments): score 0-100, at-risk flag and when they were computed.
    value_score: Mapped[int | None] = mapped_column(Integer)
    at_risk: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    segment_computed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # The list's sort columns with the id (FAB's tie-breaker) and the owner (the Sales row rule):
        # a deep page, OFFSET or keyset seek, is an index-only walk (migration 0024_list_perf).
        Index("ix_customer_name_id", "name", "id", postgresql_include=["owner_id"]),
        Index("ix_customer_city_id", "city", "id", postgresql_include=["owner_id"]),
        Index("ix_customer_status", "status"),
        Index("ix_customer_segment", "segment"),
        Index("ix_customer_plan_id", "plan_id"),
        Index("ix_customer_owner_id_id", "owner_id", "id"),
        Index("ix_customer_department_id", "department_id"),
        Index("ix_customer_created_at_id", "created_at", "id", postgresql_include=["owner_id"]),
        {"extend_existing": True},
    )

    @hybrid_property
    def id_number(self) -> str:
        """Read access is always masked; the full value comes only from `customers.reveal`."""
        return self.id_number_masked

    @id_number.inplace.comparator
    @classmethod
    def _id_number_comparator(cls) -> IdNumberComparator:
        return IdNumberComparator(cls.id_number_bidx)

    @property
    def carrier_label(self) -> str:
        from app.labels import CARRIER_LABELS, text_of

        return text_of(CARRIER_LABELS.get(self.carrier, self.carrier))

    @property
    def segment_label(self) -> str:
        from app.labels import SEGMENT_CHOICES, label_of

        return label_of(SEGMENT_CHOICES, self.segment)

    @property
    def status_label(self) -> str:
        from app.labels import STATUS_CHOICES, label_of

        return label_of(STATUS_CHOICES, self.status)

    @property
    def language_label(self) -> str:
        from app.labels import LANGUAGE_CHOICES, label_of

        return label_of(LANGUAGE_CHOICES, self.language)

    @property
    def mobile_masked(self) -> str:
        from app.services.masking import mask_mobile

        return mask_mobile(self.mobile)

    def __repr__(self) -> str:
        return f"{self.name} ({self.mobile_masked})"
