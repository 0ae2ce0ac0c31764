"""Care rules whose action is a message (SMS or email): queued in the outbox, set-based, exactly once.

The daily care run calls `insert_occurrence` instead of creating a task. Like tasks, messages are
inserted by one INSERT … SELECT … ON CONFLICT DO NOTHING per (rule, day, occurrence), unique on
(customer_id, dedupe_key) with dedupe_key = "care:<rule id>:<occurrence key>:<channel>", so a rerun
or a second runner never queues a message twice. The message's text is the template whose code is
the rule's code, written from the customer's facts in the customer's language when it is sent
(`message_render`; no Python loop per customer here). Marketing messages to customers without
marketing consent are stored as `suppressed` (counted, never sent); SMS created during quiet hours
waits for their end.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, String, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models.care import CareRule
from app.models.customer import Customer
from app.models.message import OutboxMessage
from app.services import outbox, templates

COLUMNS = ("channel", "recipient", "purpose", "template_code", "context", "source", "source_id", "customer_id",
           "dedupe_key", "status", "attempts", "next_attempt_at", "send_after", "created_at", "updated_at",
           "language", "render_at_send")


def is_message_rule(rule: CareRule) -> bool:
    return rule.action in ("sms", "email")


def template_purpose(rule: CareRule) -> str | None:
    """The purpose of the rule's template, or None when no enabled template exists for it."""
    template = templates.find(rule.code, templates.default_language())
    return template.purpose if template is not None else None


def insert_occurrence(rule: CareRule, occ: Any, targeting: list[Any], params: dict[str, Any], purpose: str,
                      now: dt.datetime, dialect: str) -> tuple[int, int]:
    """Queue this occurrence's messages; returns (queued, suppressed) newly inserted."""
    channel = rule.action
    address = Customer.mobile if channel == "sms" else Customer.email
    key = occ.key if not isinstance(occ.key, str) else literal(occ.key, String)
    dedupe = literal(f"care:{rule.id}:", String).concat(key).concat(literal(f":{channel}", String))
    next_at, held = outbox.first_attempt(channel, now)
    facts = {"offer": params.get("offer")}
    if isinstance(occ.key, str) and occ.key.startswith("exp:"):  # plan expiry: the line's own expiry date
        facts["expiry_date"] = occ.key.split(":")[1]
    context = json.dumps({k: v for k, v in facts.items() if v}, ensure_ascii=False)
    table = (postgresql if dialect == "postgresql" else sqlite).insert(OutboxMessage.__table__)
    counts = []
    variants = [("queued", Customer.consent_marketing.is_(True) if purpose == "marketing" else true())]
    if purpose == "marketing":
        variants.append(("suppressed", Customer.consent_marketing.is_(False)))
    for status, consent in variants:
        query = select(
            literal(channel, String), address, literal(purpose, String), literal(rule.code, String),
            literal(context, String), literal("care_rule", String), literal(rule.id, Integer), Customer.id, dedupe,
            literal(status, String), literal(0, Integer), literal(next_at, DateTime), literal(held, DateTime),
            literal(now, DateTime), literal(now, DateTime), Customer.language, literal(True, Boolean),
        ).select_from(Customer)
        if occ.source is not None:
            query = query.join(occ.source, occ.source.c.customer_id == Customer.id)
        query = query.where(*targeting, *occ.where, address.is_not(None), address != "", consent)
        stmt = table.from_select(list(COLUMNS), query).on_conflict_do_nothing(
            index_elements=["customer_id", "dedupe_key"])
        result = db.session.connection().execute(stmt.execution_options(preserve_rowcount=True))
        counts.append(max(result.rowcount or 0, 0))
    return counts[0], (counts[1] if len(counts) > 1 else 0)
