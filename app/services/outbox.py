"""Outgoing customer messages (SMS, email) through one outbox.

`enqueue` joins the caller's transaction (it never commits), so a message exists exactly when the
business change that caused it does. The `outbox_send` job (every minute) sends due messages:

* Claim: due rows are taken by one conditional UPDATE (status queued → sending, with this runner's
  token and a lease expiry), on PostgreSQL after `SELECT … FOR UPDATE SKIP LOCKED`. A row can only be
  claimed by one runner, so two runners never send the same message. A runner that dies mid-send
  leaves its claim to expire; the message is then retried (at-least-once across a crash).
* Retry: a failed attempt is retried after 1, 5, 25, 125 … minutes (5^(n-1)); after
  `CRM_OUTBOX_MAX_ATTEMPTS` attempts the message is `failed` — kept, visible on the Outbox page,
  and retried from there by a manager.
* Consent: a marketing message to a customer who has not consented (`consent_marketing`) is stored
  as `suppressed`, never sent (checked again when sending).
* Quiet hours: no SMS between `CRM_QUIET_HOURS` (21:00-08:00 local by default); such a message waits
  (`send_after`) and goes when they end.
* Text: written just before each attempt from the facts as they are then (`message_render`), in the
  customer's current language; the text sent stays on the row. A message that cannot be written
  (template gone, customer deleted) is `failed` at once with the reason — retrying would not help
  until someone fixes the cause and presses Retry.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update

from app.extensions import db
from app.models.base import utcnow
from app.models.customer import Customer
from app.models.message import CHANNELS, PURPOSES, OutboxMessage
from app.services import audit, message_render, templates
from app.services.actor import Actor
from app.services.errors import Invalid, NotFound
from app.services.senders import Sender, sender_for
from app.timefmt import local_zone

log = logging.getLogger(__name__)
RUNNER = f"{socket.gethostname()}:{os.getpid()}"
CLAIM_SECONDS = 300
BATCH = 200


def clock() -> dt.datetime:
    """Now, naive UTC (tests replace this)."""
    return utcnow()


def _config(key: str, default: Any) -> Any:
    return current_app.config.get(key, default) if has_app_context() else default


def max_attempts() -> int:
    return max(int(_config("CRM_OUTBOX_MAX_ATTEMPTS", 5)), 1)


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the `attempts`-th failed attempt: 1, 5, 25, 125 … minutes."""
    return dt.timedelta(minutes=5 ** max(attempts - 1, 0))


# --- quiet hours -------------------------------------------------------------------------------------


def _hhmm(value: str) -> dt.time:
    hours, minutes = value.strip().split(":")
    return dt.time(int(hours), int(minutes))


def quiet_hours() -> tuple[dt.time, dt.time] | None:
    raw = str(_config("CRM_QUIET_HOURS", "21:00-08:00") or "").strip()
    if not raw:
        return None
    start, end = raw.split("-")
    return _hhmm(start), _hhmm(end)


def quiet_until(now: dt.datetime) -> dt.datetime | None:
    """If `now` (naive UTC) is inside quiet hours, the naive UTC instant they end; else None."""
    window = quiet_hours()
    if window is None:
        return None
    start, end = window
    local = now.replace(tzinfo=dt.UTC).astimezone(local_zone())
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + dt.timedelta(days=1)
    ends = dt.datetime.combine(day, end, tzinfo=local_zone())
    return ends.astimezone(dt.UTC).replace(tzinfo=None)


def _local_day(now: dt.datetime) -> dt.date:
    return now.replace(tzinfo=dt.UTC).astimezone(local_zone()).date()


def first_attempt(channel: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime | None]:
    """(next_attempt_at, send_after) of a new message on `channel`."""
    held = quiet_until(now) if channel == "sms" else None
    return (held or now), held


# --- queueing ----------------------------------------------------------------------------------------


def _recipient(customer: Customer | None, channel: str) -> str | None:
    if customer is None:
        return None
    value = customer.mobile if channel == "sms" else customer.email
    return (value or "").strip() or None


def enqueue(*, customer_id: int | None, template_code: str, context: dict[str, Any],
            purpose: str = "service", channel: str | None = None, recipient: str | None = None,
            source: str | None = None, source_id: int | None = None) -> list[Any]:
    """Queue the message(s) of `template_code` for a customer; returns the queued rows.

    purpose: "service" (transactional: ticket acknowledgement, transfer, resolution) or "marketing"
    (care and campaigns: suppressed for customers who opted out). channel None = the template's
    channels the customer has an address for. Joins the caller's transaction: the caller commits (or
    rolls back, and then no message exists). A missing or disabled template does not break the
    caller: the message is stored as `failed` with the reason, visible and retryable on the Outbox page.
    The text is not written here but when the message is sent (from `source`/`source_id`, the
    customer and `context`, the extra parameters), so a held or retried message has current facts.
    """
    if channel is not None and channel not in CHANNELS:
        raise Invalid({"channel": _("Not a valid choice: %(value)s.", value=channel)})
    if purpose not in PURPOSES:
        raise Invalid({"purpose": _("Not a valid choice: %(value)s.", value=purpose)})
    now = clock()
    customer = db.session.get(Customer, customer_id) if customer_id is not None else None
    language = templates.customer_language(customer)
    template = templates.find(template_code, language)
    ctx_json = json.dumps(context or {}, ensure_ascii=False, default=str)
    base = {"template_code": template_code, "source": source, "source_id": source_id,
            "customer_id": customer.id if customer is not None else None, "context": ctx_json,
            "language": language, "render_at_send": True, "created_at": now, "updated_at": now}
    if template is None:
        row = OutboxMessage(channel=channel or "sms", recipient=recipient or _recipient(customer, channel or "sms"),
                            purpose=purpose, status="failed", attempts=0, next_attempt_at=now,
                            last_error=f"no enabled template '{template_code}'", **base)
        db.session.add(row)
        db.session.flush()
        log.warning("outbox: no enabled template %r; message %s stored as failed", template_code, row.id)
        return [row]
    if template.purpose == "marketing":
        purpose = "marketing"
    channels = [channel] if channel else template.channel_list
    rows = []
    for ch in channels:
        to = (recipient if channel else None) or _recipient(customer, ch)
        if to is None and channel is None:
            continue  # e.g. no email address: that channel is simply not used
        next_at, held = first_attempt(ch, now)
        status, error = "queued", None
        if purpose == "marketing" and customer is not None and not customer.consent_marketing:
            status = "suppressed"
        elif to is None:
            status, error = "failed", "no recipient address"
        row = OutboxMessage(channel=ch, recipient=to, purpose=purpose, status=status, attempts=0,
                            next_attempt_at=next_at, send_after=held, last_error=error, **base)
        db.session.add(row)
        rows.append(row)
    if not rows:  # no address on any channel: kept as failed, visible, not silently dropped
        ch = channels[0] if channels else "sms"
        row = OutboxMessage(channel=ch, recipient=None, purpose=purpose, status="failed", attempts=0,
                            next_attempt_at=now, last_error="no recipient address", **base)
        db.session.add(row)
        rows.append(row)
    db.session.flush()
    return rows


# --- sending -----------------------------------------------------------------------------------------


def _due(now: dt.datetime) -> Any:
    return or_(and_(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now),
               and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now))


def claim(now: dt.datetime, limit: int = BATCH, runner: str | None = None) -> list[int]:
    """Take up to `limit` due messages for this runner (committed); returns their ids."""
    stmt = select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.next_attempt_at,
                                                              OutboxMessage.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list(db.session.execute(stmt).scalars())
    if not ids:
        db.session.rollback()
        return []
    token = f"{(runner or RUNNER)[:48]}:{uuid.uuid4().hex[:12]}"
    # The WHERE repeats the due condition: a row another runner claimed meanwhile is not taken again.
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids), _due(now))
        .values(status="sending", claimed_by=token, claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return list(db.session.execute(
        select(OutboxMessage.id).where(OutboxMessage.claimed_by == token, OutboxMessage.status == "sending")
        .order_by(OutboxMessage.id)).scalars())


def _write_text(msg: OutboxMessage, now: dt.datetime) -> None:
    """Subject and body from current facts, kept on the row (what is sent); raises RenderError."""
    rendered = message_render.render(msg, _local_day(now))
    customer = message_render.resolve_customer(msg)
    if customer is not None:
        # The customer's address as it is now: a mobile changed while the message waited (quiet
        # hours, a retry) gets it at the new number, a merged-away customer at the survivor's.
        address = _recipient(customer, msg.channel)
        if address is None:
            raise message_render.RenderError(f"the customer has no {msg.channel} address any more")
        msg.recipient = address
    msg.subject, msg.body, msg.language, msg.rendered_at = rendered.subject, rendered.body, rendered.language, now


def needs_text(msg: OutboxMessage) -> bool:
    """Rows queued before send-time rendering hold the body they are to be sent with."""
    return bool(msg.render_at_send) or msg.body is None


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    suppressed: int = 0
    held: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "retrying": self.retrying, "failed": self.failed,
                "suppressed": self.suppressed, "held": self.held}


def _release(msg: OutboxMessage) -> None:
    msg.claimed_by = None
    msg.claimed_until = None


def send_one(message_id: int, now: dt.datetime, senders: dict[str, Sender], result: SendResult) -> None:
    msg = db.session.get(OutboxMessage, message_id)
    if msg is None or msg.status != "sending":
        return
    _release(msg)
    if msg.purpose == "marketing" and msg.customer is not None and not msg.customer.consent_marketing:
        msg.status = "suppressed"  # the customer opted out after it was queued
        result.suppressed += 1
        db.session.commit()
        return
    held = quiet_until(now) if msg.channel == "sms" else None
    if held is not None:
        msg.status, msg.next_attempt_at, msg.send_after = "queued", held, held
        result.held += 1
        db.session.commit()
        return
    msg.attempts += 1
    if needs_text(msg):
        try:
            _write_text(msg, now)
        except message_render.RenderError as exc:  # lasting: failed now, with the reason, never dropped
            msg.status, msg.last_error = "failed", f"Cannot write the message: {exc}"[:2000]
            result.failed += 1
            log.warning("outbox: message %s not sent: %s", msg.id, msg.last_error)
            db.session.commit()
            return
    try:
        if msg.channel not in senders:
            senders[msg.channel] = sender_for(msg.channel)
        senders[msg.channel].send(msg)
    except Exception as exc:  # any failure is recorded on the message and retried, never lost
        msg.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if msg.attempts >= max_attempts():
            msg.status = "failed"
            result.failed += 1
        else:
            msg.status = "queued"
            msg.next_attempt_at = now + backoff(msg.attempts)
            result.retrying += 1
        log.warning("outbox: message %s attempt %s failed: %s", msg.id, msg.attempts, msg.last_error)
    else:
        msg.status, msg.sent_at = "sent", now
        result.sent += 1
    db.session.commit()


def send_due(now: dt.datetime | None = None, limit: int = 5000, runner: str | None = None,
             senders: dict[str, Sender] | None = None) -> SendResult:
    """Send every due message (up to `limit` per run), committing each outcome."""
    now = now or clock()
    senders = senders if senders is not None else {}
    result = SendResult()
    done = 0
    while done < limit:
        ids = claim(now, min(BATCH, limit - done), runner)
        if not ids:
            break
        for message_id in ids:
            send_one(message_id, now, senders, result)
        done += len(ids)
    return result


# --- managing ----------------------------------------------------------------------------------------


def get(message_id: int) -> OutboxMessage:
    msg = db.session.get(OutboxMessage, message_id)
    if msg is None:
        raise NotFound()
    return msg


def retry(message_id: int, actor: Actor) -> OutboxMessage:
    """Queue a failed (or cancelled) message again, with a fresh round of attempts."""
    msg = get(message_id)
    if msg.status not in ("failed", "cancelled"):
        raise Invalid({"status": _("Only a failed or cancelled message can be retried.")})
    before = {"status": msg.status, "attempts": msg.attempts}
    now = clock()
    next_at, held = first_attempt(msg.channel, now)
    msg.status, msg.attempts, msg.next_attempt_at, msg.send_after = "queued", 0, next_at, held
    _release(msg)
    audit.record(actor, "update", "outbox_message", msg.id, {"before": before, "after": {"status": "queued"}})
    db.session.commit()
    return msg


def cancel(message_id: int, actor: Actor) -> OutboxMessage:
    msg = get(message_id)
    if msg.status not in ("queued", "failed"):
        raise Invalid({"status": _("Only a queued or failed message can be cancelled.")})
    before = {"status": msg.status}
    msg.status = "cancelled"
    audit.record(actor, "update", "outbox_message", msg.id, {"before": before, "after": {"status": "cancelled"}})
    db.session.commit()
    return msg


def status_counts() -> dict[str, int]:
    from sqlalchemy import func

    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    return {status: int(n) for status, n in rows}


def listing(status: str | None = None, channel: str | None = None, customer_id: int | None = None,
            limit: int = 100, offset: int = 0) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit).offset(offset)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    if channel:
        stmt = stmt.where(OutboxMessage.channel == channel)
    if customer_id:
        stmt = stmt.where(OutboxMessage.customer_id == customer_id)
    return list(db.session.execute(stmt).scalars())
