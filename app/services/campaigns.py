"""Marketing campaigns (营销活动): define, preview, launch in batches, attribute, report.

* A Manager (or Admin) defines a campaign: filters (see `campaign_targeting`), a period, a channel
  (call tasks for the customers' owners, or SMS/email from a message template), an offer and a
  conversion window of N days. Preview = count + 10 masked rows of the one targeting query.
* Launch only records the intent (status `launched`, a `CampaignLaunch` row). The `campaign_launch`
  job does the work from the start date on, in batches ordered by customer id: each batch inserts
  its contacts (INSERT … SELECT … ON CONFLICT DO NOTHING on (campaign_id, customer_id)), their call
  tasks or outbox messages, and moves the launch's cursor, all in one transaction. A crash loses at
  most the batch in flight, and the next run resumes at the cursor; the cursor is moved with a
  conditional UPDATE, so a second runner cannot apply the same batch twice.
* Attribution and the report: `app.services.campaign_results`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import Boolean, Date, DateTime, Integer, String, exists, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models.base import utcnow
from app.models.campaign import CAMPAIGN_CHANNELS, Campaign, CampaignContact, CampaignLaunch
from app.models.care import CareTask
from app.models.customer import Customer
from app.models.message import OutboxMessage
from app.services import audit, outbox, templates
from app.services.actor import Actor
from app.services.campaign_targeting import clean_filters, conditions
from app.services.care import business_date, role_pool, round_robin
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.masking import mask_mobile
from app.services.validation import FieldError, check_choice, check_date, check_int, check_text, check_version

EDITABLE = ("name", "description", "filters", "start_date", "end_date", "channel", "template_code", "offer",
            "conversion_days")
SAMPLE_SIZE = 10


def _config(key: str, default: Any) -> Any:
    return current_app.config.get(key, default) if has_app_context() else default


def batch_size() -> int:
    return max(int(_config("CRM_CAMPAIGN_BATCH", 1000)), 1)


def _require_manager(actor: Actor) -> None:
    if not actor.has_role("Admin", "Manager"):
        raise Forbidden(_("Only a manager can define or launch campaigns."))


def filters_of(campaign: Campaign) -> dict[str, Any]:
    try:
        value = json.loads(campaign.filters or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# --- define ----------------------------------------------------------------------------------------


def _clean(data: dict[str, Any], existing: Campaign | None) -> dict[str, Any]:
    """Checked values of every editable field (missing ones keep the existing value)."""
    def value(key: str, default: Any = None) -> Any:
        if key in data:
            return data[key]
        return getattr(existing, key) if existing is not None else default

    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    checks = {
        "name": lambda v: check_text(v, 128, required=True),
        "description": lambda v: check_text(v, 2000),
        "start_date": lambda v: check_date(v, required=True),
        "end_date": lambda v: check_date(v, required=True),
        "channel": lambda v: check_choice(v, CAMPAIGN_CHANNELS),
        "template_code": lambda v: check_text(v, 32),
        "offer": lambda v: check_text(v, 2000),
        "conversion_days": lambda v: check_int(v, minimum=1, maximum=365),
    }
    defaults = {"channel": "call", "conversion_days": 30}
    for key, check in checks.items():
        try:
            out[key] = check(value(key, defaults.get(key)))
        except FieldError as exc:
            errors[key] = str(exc)
    try:
        out["filters"] = json.dumps(clean_filters(value("filters", "{}")), ensure_ascii=False, sort_keys=True)
    except Invalid as exc:
        errors.update(exc.errors)
    if out.get("start_date") and out.get("end_date") and out["end_date"] < out["start_date"]:
        errors["end_date"] = _("The end date must not be before the start date.")
    if out.get("channel") in ("sms", "email"):
        code = out.get("template_code")
        if not code:
            errors["template_code"] = _("Choose the message template of a message campaign.")
        elif not db.session.execute(select(func.count()).select_from(templates.MessageTemplate)
                                    .where(templates.MessageTemplate.code == code)).scalar():
            errors["template_code"] = _("No message template has this code.")
    elif "template_code" in out:
        out["template_code"] = None  # a call campaign's script is its offer text
    if errors:
        raise Invalid(errors)
    return out


def get(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound()
    return campaign


def create(data: dict[str, Any], actor: Actor) -> Campaign:
    _require_manager(actor)
    values = _clean(data, None)
    campaign = Campaign(**values, status="draft", created_by_id=actor.id)
    db.session.add(campaign)
    db.session.flush()
    audit.record(actor, "create", "campaign", campaign.id, {"after": {k: str(v) for k, v in values.items()}})
    db.session.commit()
    return campaign


def update_campaign(campaign_id: int, data: dict[str, Any], actor: Actor, version: Any = None) -> Campaign:
    _require_manager(actor)
    campaign = get(campaign_id)
    if check_version(version) not in (None, campaign.version):  # junk is a 422 naming `version`
        # Name what the other person saved in the fields this edit would overwrite.
        current = {k: str(getattr(campaign, k) or "") for k in EDITABLE if k in data}
        raise Conflict(_("Someone else changed this campaign."), current={**current, "version": campaign.version})
    if campaign.status != "draft":
        raise Invalid({"status": _("Only a draft campaign can be changed.")})
    values = _clean(data, campaign)
    before = {k: str(getattr(campaign, k)) for k in values}
    for key, val in values.items():
        setattr(campaign, key, val)
    audit.record(actor, "update", "campaign", campaign.id,
                 {"before": before, "after": {k: str(v) for k, v in values.items()}})
    db.session.commit()
    return campaign


def delete(campaign_id: int, actor: Actor) -> None:
    _require_manager(actor)
    campaign = get(campaign_id)
    if campaign.status != "draft":
        raise Invalid({"status": _("Only a draft campaign can be deleted; cancel a launched one.")})
    audit.record(actor, "delete", "campaign", campaign.id, {"before": {"name": campaign.name}})
    db.session.delete(campaign)
    db.session.commit()


# --- preview ---------------------------------------------------------------------------------------


@dataclass
class Preview:
    count: int
    sample: list[dict[str, Any]] = field(default_factory=list)


def preview(filters: Any, channel: str, today: dt.date, campaign_id: int | None = None) -> Preview:
    """How many customers the filters target today, and the first 10 (mobile masked)."""
    cleaned = clean_filters(filters)
    if channel not in CAMPAIGN_CHANNELS:
        raise Invalid({"channel": _("Not a valid choice: %(value)s.", value=channel)})
    where = conditions(cleaned, today, channel, campaign_id)
    count = db.session.execute(select(func.count()).select_from(Customer).where(*where)).scalar() or 0
    rows = db.session.execute(
        select(Customer.id, Customer.name, Customer.mobile, Customer.city, Customer.segment)
        .where(*where).order_by(Customer.id).limit(SAMPLE_SIZE)
    ).all()
    sample = [{"id": r.id, "name": r.name, "mobile": mask_mobile(r.mobile), "city": r.city or "",
               "segment": r.segment} for r in rows]
    return Preview(count, sample)


# --- launch ----------------------------------------------------------------------------------------


def launch(campaign_id: int, actor: Actor, today: dt.date | None = None) -> CampaignLaunch:
    """Managers only: queue the launch; the `campaign_launch` job contacts the target in batches."""
    _require_manager(actor)
    today = today or business_date(utcnow())
    campaign = get(campaign_id)
    if campaign.status != "draft":
        raise Invalid({"status": _("This campaign has already been launched.")})
    if campaign.end_date < today:
        raise Invalid({"end_date": _("The campaign period is over.")})
    if campaign.channel in ("sms", "email") and not templates.has_enabled(campaign.template_code or ""):
        raise Invalid({"template_code": _("Enable the message template (after previewing it) before launching.")})
    launch_row = CampaignLaunch(campaign_id=campaign.id, status="pending", batch_size=batch_size())
    db.session.add(launch_row)
    campaign.status = "launched"
    campaign.launched_at = utcnow()
    campaign.launched_by_id = actor.id
    audit.record(actor, "launch", "campaign", campaign.id, {"after": {"status": "launched"}})
    db.session.commit()
    return launch_row


def cancel(campaign_id: int, actor: Actor) -> Campaign:
    """Stop a campaign: its open call tasks and unsent messages are cancelled; contacts made stay."""
    _require_manager(actor)
    campaign = get(campaign_id)
    if campaign.status in ("done", "cancelled"):
        raise Invalid({"status": _("This campaign is already finished.")})
    before = campaign.status
    campaign.status = "cancelled"
    db.session.execute(update(CampaignLaunch).where(CampaignLaunch.campaign_id == campaign.id,
                                                    CampaignLaunch.status.in_(("pending", "running")))
                       .values(status="cancelled", finished_at=utcnow()).execution_options(synchronize_session=False))
    tasks = db.session.execute(
        update(CareTask).where(CareTask.source_type == "campaign", CareTask.source_id == campaign.id,
                               CareTask.status == "open")
        .values(status="cancelled", version=CareTask.version + 1).execution_options(synchronize_session=False)
    ).rowcount
    messages = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.source == "campaign", OutboxMessage.source_id == campaign.id,
                                    OutboxMessage.status == "queued")
        .values(status="cancelled").execution_options(synchronize_session=False)
    ).rowcount
    audit.record(actor, "update", "campaign", campaign.id,
                 {"before": {"status": before}, "after": {"status": "cancelled", "tasks_cancelled": tasks,
                                                          "messages_cancelled": messages}})
    db.session.commit()
    return campaign


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _upsert(table: Any) -> Any:
    return (postgresql if _dialect() == "postgresql" else sqlite).insert(table)


def _assignee(pool: list[int]) -> Any:
    """The customer's owner; customers without one go round-robin over the Sales users."""
    return func.coalesce(Customer.owner_id, round_robin(pool))


def _task_title(campaign: Campaign) -> str:
    """What the agenda shows as the task's reason: the campaign and its offer (the call's script)."""
    text = f"{campaign.name} · {campaign.offer}" if campaign.offer else campaign.name
    return text[:255]


def _deliver(campaign: Campaign, lo: int, hi: int, now: dt.datetime, today: dt.date, pool: list[int]) -> None:
    """Call tasks or queued messages for this batch's contacts (customer ids in (lo, hi])."""
    in_batch = [CampaignContact.campaign_id == campaign.id, CampaignContact.customer_id > lo,
                CampaignContact.customer_id <= hi]
    if campaign.channel == "call":
        due = max(today, campaign.start_date)
        already = exists().where(CareTask.source_type == "campaign", CareTask.source_id == campaign.id,
                                 CareTask.customer_id == CampaignContact.customer_id)
        query = (select(CampaignContact.customer_id, literal(f"campaign:{campaign.id}", String), literal(due, Date),
                        _assignee(pool), literal("open", String), literal("normal", String), literal(0, Integer),
                        literal(now, DateTime), literal(now, DateTime), literal(1, Integer),
                        literal("campaign", String), literal(campaign.id, Integer),
                        literal(_task_title(campaign), String))
                 .join(Customer, Customer.id == CampaignContact.customer_id).where(*in_batch, ~already))
        cols = ["customer_id", "occurrence_key", "due_date", "assignee_id", "status", "priority", "attempts",
                "created_at", "updated_at", "version", "source_type", "source_id", "title"]
        db.session.execute(insert(CareTask.__table__).from_select(cols, query))
        return
    channel = campaign.channel
    address = Customer.mobile if channel == "sms" else Customer.email
    next_at, held = outbox.first_attempt(channel, now)
    context = json.dumps({k: v for k, v in (("campaign_name", campaign.name), ("offer", campaign.offer)) if v},
                         ensure_ascii=False)
    query = (select(literal(channel, String), address, literal("marketing", String),
                    literal(campaign.template_code, String), literal(context, String), literal("campaign", String),
                    literal(campaign.id, Integer), CampaignContact.customer_id,
                    literal(f"campaign:{campaign.id}:{channel}", String), literal("queued", String),
                    literal(0, Integer), literal(next_at, DateTime), literal(held, DateTime),
                    literal(now, DateTime), literal(now, DateTime), Customer.language, literal(True, Boolean))
             .join(Customer, Customer.id == CampaignContact.customer_id).where(*in_batch))
    # Written when sent, in the customer's language, with the campaign's name and offer as they are then.
    cols = ["channel", "recipient", "purpose", "template_code", "context", "source", "source_id", "customer_id",
            "dedupe_key", "status", "attempts", "next_attempt_at", "send_after", "created_at", "updated_at",
            "language", "render_at_send"]
    db.session.execute(_upsert(OutboxMessage.__table__).from_select(cols, query)
                       .on_conflict_do_nothing(index_elements=["customer_id", "dedupe_key"]))


def run_batch(launch_id: int, now: dt.datetime, pool: list[int] | None = None) -> bool:
    """Process the launch's next batch in one transaction; False once nothing is left (or stopped)."""
    today = business_date(now)
    stmt = select(CampaignLaunch).where(CampaignLaunch.id == launch_id)
    if _dialect() == "postgresql":
        stmt = stmt.with_for_update()
    row = db.session.execute(stmt).scalar_one()
    db.session.refresh(row)
    campaign = row.campaign
    db.session.refresh(campaign)
    if row.status not in ("pending", "running") or campaign.status == "cancelled":
        db.session.rollback()
        return False
    where = conditions(filters_of(campaign), today, campaign.channel, campaign.id)
    if row.status == "pending":
        row.status, row.started_at = "running", now
        row.total = db.session.execute(select(func.count()).select_from(Customer).where(*where)).scalar() or 0
    lo = row.cursor
    window = select(Customer.id).where(*where, Customer.id > lo).order_by(Customer.id).limit(row.batch_size)
    hi = db.session.execute(select(func.max(window.subquery().c.id))).scalar()
    if hi is None:
        row.status, row.finished_at = "done", now
        campaign.status = "running"
        audit.record(None, "update", "campaign", campaign.id,
                     {"after": {"status": "running", "contacts": row.processed, "batches": row.batches}})
        db.session.commit()
        return False
    window_end = now + dt.timedelta(days=campaign.conversion_days)
    contacts = (select(literal(campaign.id, Integer), Customer.id, literal(now, DateTime), literal(today, Date),
                       literal(window_end, DateTime))
                .where(*where, Customer.id > lo, Customer.id <= hi))
    result = db.session.execute(
        _upsert(CampaignContact.__table__)
        .from_select(["campaign_id", "customer_id", "contacted_at", "contact_day", "window_ends_at"], contacts)
        .on_conflict_do_nothing(index_elements=["campaign_id", "customer_id"])
        .execution_options(preserve_rowcount=True))
    created = max(result.rowcount or 0, 0)
    _deliver(campaign, lo, hi, now, today, pool if pool is not None else role_pool("Sales"))
    moved = db.session.execute(
        update(CampaignLaunch).where(CampaignLaunch.id == row.id, CampaignLaunch.cursor == lo)
        .values(cursor=hi, processed=CampaignLaunch.processed + created, batches=CampaignLaunch.batches + 1)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:  # another runner applied this batch first: ours must not count
        db.session.rollback()
        return False
    db.session.commit()
    return True


def process_launches(now: dt.datetime, max_batches: int | None = None, budget_seconds: float | None = None
                     ) -> dict[str, int]:
    """The `campaign_launch` job: work through every launch whose campaign has started."""
    today = business_date(now)
    budget = budget_seconds if budget_seconds is not None else float(_config("CRM_CAMPAIGN_LAUNCH_SECONDS", 240))
    started = time.monotonic()
    ids = list(db.session.execute(
        select(CampaignLaunch.id).join(Campaign, Campaign.id == CampaignLaunch.campaign_id)
        .where(CampaignLaunch.status.in_(("pending", "running")), Campaign.start_date <= today)
        .order_by(CampaignLaunch.id)).scalars())
    pool = role_pool("Sales")
    batches = finished = 0
    for launch_id in ids:
        while True:
            if (max_batches is not None and batches >= max_batches) or time.monotonic() - started > budget:
                return {"launches": len(ids), "batches": batches, "finished": finished}
            if not run_batch(launch_id, now, pool):
                finished += db.session.get(CampaignLaunch, launch_id).status == "done"
                break
            batches += 1
    return {"launches": len(ids), "batches": batches, "finished": finished}


def launch_of(campaign_id: int) -> CampaignLaunch | None:
    return db.session.execute(select(CampaignLaunch).where(CampaignLaunch.campaign_id == campaign_id)
                              ).scalar_one_or_none()


def template_codes() -> list[str]:
    """Codes of marketing message templates (choices of a message campaign)."""
    return sorted(set(db.session.execute(
        select(templates.MessageTemplate.code).where(templates.MessageTemplate.purpose == "marketing")).scalars()))
