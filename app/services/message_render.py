"""Writing an outbox message's text just before it is sent, from the facts as they are then.

A queued row keeps what to write, not the text: template code, language, the customer, the source
record (`source`/`source_id`) and extra parameters (`context`, JSON: what cannot be looked up later,
such as a survey link whose token is stored only as a hash). `render(msg, now)` rebuilds the values
in this order, later ones winning:

1. the customer's own facts (`templates.customer_facts`: name, salutation, plan, usage, arrears …);
2. the extra parameters stored on the row;
3. the source record's current facts (`SOURCES`: a ticket's number, type and department, a
   campaign's name and offer, a care rule's offer) — a ticket transferred again while its message
   waited names the department it is in now.

The template is the one in the customer's current language, else zh, else any language
(`templates.find`). A customer merged away is followed through `customer_alias` to the survivor.
What cannot be rendered — no template any more, a customer deleted without a merge, unreadable
parameters — raises `RenderError`; the outbox marks the message failed with that reason.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models.customer import LANGUAGES, Customer
from app.models.customer_alias import CustomerAlias
from app.models.message import OutboxMessage
from app.services import templates

# Customer-facing names of the shipped departments in English messages (zh uses the stored name).
DEPARTMENT_NAMES = {"en": {"customer-service": "customer service", "technical": "technical", "billing": "billing",
                           "marketing": "marketing", "sales": "sales"}}


class RenderError(Exception):
    """The message cannot be written (a lasting condition: retrying the same row will not help)."""


# --- facts of the source record ----------------------------------------------------------------------


def _ticket_facts(ticket_id: int, language: str) -> dict[str, Any]:
    from app.models.department import Department
    from app.models.ticket import Ticket
    from app.services.tickets import TYPE_CHOICES, label

    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return {}  # the row's stored parameters still name it
    facts: dict[str, Any] = {"ticket_no": ticket.ticket_no, "ticket_subject": ticket.subject}
    with force_locale(language):
        facts["ticket_type"] = label(TYPE_CHOICES, ticket.ticket_type)
    dept = db.session.get(Department, ticket.department_id) if ticket.department_id else None
    if dept is not None:
        facts["department"] = DEPARTMENT_NAMES.get(language, {}).get(dept.code, dept.name)
    return facts


def _campaign_facts(campaign_id: int, language: str) -> dict[str, Any]:
    from app.models.campaign import Campaign

    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return {}
    return {"campaign_name": campaign.name, "offer": campaign.offer}


def _care_rule_facts(rule_id: int, language: str) -> dict[str, Any]:
    from app.models.care import CareRule
    from app.services.care_kinds import KINDS
    from app.services.care_rules import params_of

    rule = db.session.get(CareRule, rule_id)
    kind = KINDS.get(rule.kind) if rule is not None else None
    if kind is None:
        return {}
    return {"offer": {**kind.default_params, **params_of(rule)}.get("offer")}


# source → its current facts for placeholders (keys of templates.CONTEXT_KEYS), in `language`.
SOURCES: dict[str, Callable[[int, str], dict[str, Any]]] = {
    "ticket": _ticket_facts,
    "campaign": _campaign_facts,
    "care_rule": _care_rule_facts,
}


def source_facts(source: str | None, source_id: int | None, language: str) -> dict[str, Any]:
    fn = SOURCES.get(source or "")
    if fn is None or source_id is None:
        return {}
    return {k: v for k, v in fn(source_id, language).items() if v not in (None, "")}


# --- the customer -----------------------------------------------------------------------------------


def resolve_customer(msg: OutboxMessage) -> Customer | None:
    """The message's customer; one merged away is followed to the survivor (and the row re-pointed)."""
    if msg.customer_id is None:
        return None
    customer = db.session.get(Customer, msg.customer_id)
    if customer is not None:
        return customer
    survivor_id = db.session.execute(
        select(CustomerAlias.survivor_id).where(CustomerAlias.old_id == msg.customer_id)).scalar()
    survivor = db.session.get(Customer, survivor_id) if survivor_id is not None else None
    if survivor is None:
        raise RenderError(f"customer #{msg.customer_id} no longer exists (deleted, not merged)")
    msg.customer_id = survivor.id
    return survivor


def _context(msg: OutboxMessage) -> dict[str, Any]:
    try:
        context = json.loads(msg.context or "{}")
    except ValueError:
        raise RenderError("the message's parameters (context) are not valid JSON") from None
    if not isinstance(context, dict):
        raise RenderError("the message's parameters (context) are not a JSON object")
    return context


def render(msg: OutboxMessage, today: dt.date) -> templates.Rendered:
    """The message's subject and body from current facts (nothing is written to the row here)."""
    if not msg.template_code:
        raise RenderError("no template code on the message")
    customer = resolve_customer(msg)
    if customer is not None:
        language = templates.customer_language(customer)
    else:
        language = msg.language if msg.language in LANGUAGES else templates.default_language()
    template = templates.find(msg.template_code, language)
    if template is None:
        raise RenderError(f"no enabled template '{msg.template_code}' in any language (deleted or disabled)")
    values = {**_context(msg), **source_facts(msg.source, msg.source_id, template.language)}
    return templates.render(template, customer, values, msg.channel, today)
