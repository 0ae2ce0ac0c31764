"""Merge test helpers: two customers with every kind of related record, some colliding."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from app.extensions import db
from app.models.bill import Bill
from app.models.care import CareRule
from app.models.customer import Customer
from app.models.department import Department
from app.services import seed
from app.services.customer_merge import customer_references

_seq = itertools.count(1)


def count_refs(customer_id: int) -> dict[str, int]:
    """Rows referencing the customer, per `table.column`, over every foreign key in the schema."""
    out = {}
    for table, column in customer_references():
        out[f"{table.name}.{column.name}"] = db.session.execute(
            select(func.count()).select_from(table).where(column == customer_id)).scalar_one()
    return out


def _table(name: str) -> Any:
    from flask_appbuilder import Model

    return Model.metadata.tables[name]


def _add(table_name: str, /, **values: Any) -> Any:
    return db.session.execute(insert(_table(table_name)).values(**values)).inserted_primary_key[0]


def _ensure(name: str, customer_id: int, survivor_id: int, today: dt.date) -> None:
    """One row of table `name` for the merged customer (and a colliding one where a key allows)."""
    n = next(_seq)
    now = dt.datetime(2026, 1, 1, 9, 0)
    if name == "care_task":
        rule_id = db.session.execute(select(CareRule.id).limit(1)).scalar()
        for cid in (customer_id, survivor_id):  # same rule and occurrence: a collision
            _add("care_task", customer_id=cid, rule_id=rule_id, occurrence_key=f"merge-{n}", due_date=today,
                 status="open", created_at=now, updated_at=now)
    elif name == "churn_score":
        mv = _add("churn_model_version", version=1000 + n, algorithm="logistic", artifact=b"x", metrics="{}",
                  samples=0, positives=0, active=False, trained_at=now)
        for cid, score in ((customer_id, 0.9), (survivor_id, 0.2)):
            _add("churn_score", customer_id=cid, model_version_id=mv, score=score, reasons="[]", scored_at=now)
    elif name == "segment_snapshot":
        for cid in (customer_id, survivor_id):
            _add("segment_snapshot", month=today.replace(day=1), customer_id=cid, segment="ordinary",
                 value_score=1, at_risk=False)
        _add("segment_snapshot", month=dt.date(2020, 1, 1), customer_id=customer_id, segment="potential",
             value_score=2, at_risk=False)
    elif name == "outbox_message":
        for cid in (customer_id, survivor_id):
            _add("outbox_message", customer_id=cid, channel="sms", dedupe_key=f"k{n}", body="", status="queued",
                 created_at=now)
        _add("outbox_message", customer_id=customer_id, channel="sms", dedupe_key=None, body="", status="queued",
             created_at=now)
    elif name == "lead":
        _add("lead", name=f"线索{n}", source="website", customer_id=customer_id, status="converted",
             priority_score=0, version=1, created_at=now, updated_at=now)
    elif name == "opportunity":
        _add("opportunity", name=f"商机{n}", customer_id=customer_id, stage="potential", version=1,
             created_at=now, updated_at=now)
    elif name == "sales_order":
        opp = _add("opportunity", name=f"商机{n}", customer_id=customer_id, stage="won", version=1,
                   created_at=now, updated_at=now)
        _add("sales_order", opportunity_id=opp, customer_id=customer_id, state="draft", version=1,
             created_at=now, updated_at=now)
    elif name == "contact_log":
        _add("contact_log", customer_id=customer_id, method="phone", content="回访", contacted_at=now,
             created_at=now)
    elif name == "ticket":
        dept = db.session.execute(select(Department.id).limit(1)).scalar()
        _add("ticket", ticket_no=f"TM{n:08d}", channel="phone", ticket_type="complaint", customer_id=customer_id,
             subject="信号差", department_id=dept, status="new", priority="normal", version=1,
             created_at=now, updated_at=now)
    elif name == "survey":
        _add("survey", token_hash=f"{n:064d}", subject_type="ticket", subject_id=1, customer_id=customer_id,
             created_at=now, expires_at=now)
    elif name == "customer_tag":
        tag = _add("tag", name=f"标签{n}", created_at=now)
        for cid in (customer_id, survivor_id):  # the same tag on both: a collision
            _add("customer_tag", customer_id=cid, tag_id=tag, created_at=now)


@pytest.fixture
def pair(ctx, actor):  # noqa: ANN001, ANN201
    """(survivor_id, merged_id): seeded customers with bills in the same months, and for the merged
    one a row in every table the schema relates to customers (several colliding with the survivor's)."""
    seed.run(30, months=3, random_seed=7)
    refs = {}
    ids = db.session.execute(select(Customer.id).order_by(Customer.id)).scalars().all()
    for cid in ids:
        refs[cid] = sum(1 for v in count_refs(cid).values() if v)
    merged_id = max(ids, key=lambda c: refs[c])
    months = set(db.session.execute(select(Bill.month).where(Bill.customer_id == merged_id)).scalars())
    survivor_id = next(c for c in ids if c != merged_id and months & set(
        db.session.execute(select(Bill.month).where(Bill.customer_id == c)).scalars()))
    today = dt.date.today()
    counts = count_refs(merged_id)
    # Tables this helper knows how to fill; another area's table is covered by the generic checks.
    known = {"care_task", "churn_score", "segment_snapshot", "outbox_message", "customer_tag", "lead",
             "opportunity", "sales_order", "contact_log", "ticket", "survey"}
    always = {"care_task", "churn_score", "segment_snapshot", "outbox_message", "customer_tag"}  # collisions
    for key, value in counts.items():
        table = key.split(".")[0]
        if table in known and (not value or table in always):
            _ensure(table, merged_id, survivor_id, today)
    db.session.commit()
    return survivor_id, merged_id
