"""Message templates (消息模板): personalised text from a customer's own facts, in their language.

Placeholders are `{{ name }}` (only the names in `PLACEHOLDERS`; a template naming another is
refused when saved). Rendering never fails on missing data: a fact the customer lacks (no plan, no
usage last month, no gender…) becomes a sensible fallback in the message's language, and a
template without the requested language falls back to the default language (zh).

Texts of messages are customer-facing data in both languages (zh, en): the shipped templates below
are stored in the database by `ensure_defaults()` and edited by managers there, previewed on a real
customer before they are enabled.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context
from flask_babel import force_locale, gettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models.base import utcnow
from app.models.customer import Customer
from app.models.message import CHANNELS, LANGUAGES, PURPOSES, MessageTemplate
from app.models.plan import Plan
from app.models.subscription import Subscription
from app.models.usage import UsageRecord
from app.services import arrears, audit
from app.services.actor import SYSTEM, Actor
from app.services.errors import Conflict, Invalid, NotFound
from app.services.validation import FieldError, check_text
from app.timefmt import to_local

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

# Facts of the customer (filled by `customer_facts`) and keys callers pass in their context.
CUSTOMER_KEYS = ("customer_name", "salutation", "mobile_tail", "plan_name", "monthly_fee", "expiry_date",
                 "data_used", "data_allowance", "data_usage_pct", "arrears_amount", "arrears_days",
                 "suggested_plan")
CONTEXT_KEYS = ("ticket_no", "ticket_type", "ticket_subject", "department", "survey_url", "offer",
                "campaign_name")
PLACEHOLDERS = CUSTOMER_KEYS + CONTEXT_KEYS

# What a message says when the customer lacks a fact (by message language).
FALLBACKS: dict[str, dict[str, str]] = {
    "zh": {"customer_name": "客户", "salutation": "尊敬的客户", "mobile_tail": "", "plan_name": "您的套餐",
           "monthly_fee": "—", "expiry_date": "（暂无到期日）", "data_used": "（暂无记录）",
           "data_allowance": "（暂无记录）", "data_usage_pct": "—", "arrears_amount": "0.00",
           "arrears_days": "0", "suggested_plan": "您当前的套餐", "offer": "专属优惠",
           "department": "客服部"},
    "en": {"customer_name": "customer", "salutation": "Dear customer", "mobile_tail": "",
           "plan_name": "your plan", "monthly_fee": "—", "expiry_date": "(no expiry date)",
           "data_used": "(no record)", "data_allowance": "(no record)", "data_usage_pct": "—",
           "arrears_amount": "0.00", "arrears_days": "0", "suggested_plan": "your current plan",
           "offer": "an exclusive offer", "department": "customer service"},
}
OPT_OUT = {"zh": "回复TD退订", "en": "Reply TD to opt out"}


def default_language() -> str:
    lang = current_app.config.get("CRM_MESSAGE_LANGUAGE", "zh") if has_app_context() else "zh"
    return lang if lang in LANGUAGES else "zh"


def customer_language(customer: Customer | None) -> str:
    """The customer's message language (`customer.language`), else the default (no customer)."""
    lang = getattr(customer, "language", None) if customer is not None else None
    return lang if lang in LANGUAGES else default_language()


# --- facts ------------------------------------------------------------------------------------------


def _gb(mb: int | float) -> str:
    gb = Decimal(mb) / Decimal(1024)
    return f"{gb.quantize(Decimal('0.1'))} GB"


def _salutation(customer: Customer, language: str) -> str | None:
    name = (customer.name or "").strip()
    if not name:
        return None
    if language == "zh":
        title = {"M": "先生", "F": "女士"}.get(customer.gender or "")
        return f"{name[0]}{title}" if title else name
    title = {"M": "Mr", "F": "Ms"}.get(customer.gender or "")
    return f"{title} {name}" if title else name


def last_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def suggest_plan(current: Plan | None, used_mb: int | None) -> Plan | None:
    """A better-fitting active plan of the same type: the cheapest one that covers last month's data
    when it ran over, or a cheaper one that still covers it (with 20% headroom) when it used under 30%."""
    if current is None or used_mb is None or not current.data_mb:
        return None
    plans = select(Plan).where(Plan.active.is_(True), Plan.plan_type == current.plan_type, Plan.id != current.id)
    if used_mb > current.data_mb:
        stmt = plans.where(Plan.data_mb >= used_mb).order_by(Plan.monthly_fee, Plan.id)
    elif used_mb < current.data_mb * 0.3:
        stmt = plans.where(Plan.data_mb >= used_mb * 1.2, Plan.monthly_fee < current.monthly_fee).order_by(
            Plan.monthly_fee, Plan.id)
    else:
        return None
    return db.session.execute(stmt.limit(1)).scalar()


def customer_facts(customer: Customer | None, language: str, today: dt.date | None = None) -> dict[str, str]:
    """The customer's facts as text for placeholders; a fact the customer lacks is left out."""
    if customer is None:
        return {}
    today = today or to_local(utcnow()).date()
    facts: dict[str, str] = {}
    if customer.name:
        facts["customer_name"] = customer.name
    salutation = _salutation(customer, language)
    if salutation:
        facts["salutation"] = salutation
    if customer.mobile and len(customer.mobile) >= 4:
        facts["mobile_tail"] = customer.mobile[-4:]
    plan = customer.plan
    if plan is not None:
        facts["plan_name"] = plan.name
        facts["monthly_fee"] = f"{plan.monthly_fee:.2f}"
        if plan.data_mb:
            facts["data_allowance"] = _gb(plan.data_mb)
    expiry = db.session.execute(
        select(func.min(Subscription.expiry_date)).where(
            Subscription.customer_id == customer.id, Subscription.status != "terminated",
            Subscription.expiry_date >= today)
    ).scalar()
    if expiry is not None:
        facts["expiry_date"] = str(expiry)
    used = db.session.execute(
        select(func.sum(UsageRecord.data_mb)).where(UsageRecord.customer_id == customer.id,
                                                    UsageRecord.month == last_month(today))
    ).scalar()
    if used is not None:
        facts["data_used"] = _gb(used)
        if plan is not None and plan.data_mb:
            facts["data_usage_pct"] = f"{round(100 * used / plan.data_mb)}%"
    owed = arrears.for_customer(customer.id, today)
    facts["arrears_amount"] = f"{owed.amount:.2f}"
    facts["arrears_days"] = str(owed.age_days)
    better = suggest_plan(plan, int(used) if used is not None else None)
    if better is not None:
        facts["suggested_plan"] = better.name
    elif plan is not None:
        facts["suggested_plan"] = plan.name
    return facts


# --- rendering --------------------------------------------------------------------------------------


def fill(text: str | None, values: dict[str, Any], language: str) -> str:
    """Replace every `{{ key }}`; a missing value becomes the fallback text (or nothing)."""
    fallbacks = FALLBACKS.get(language, FALLBACKS["zh"])

    def one(match: re.Match) -> str:
        key = match.group(1)
        value = values.get(key)
        if value is None or value == "":
            return fallbacks.get(key, "")
        return str(value)

    return PLACEHOLDER.sub(one, text or "")


@dataclass
class Rendered:
    subject: str | None
    body: str
    language: str
    purpose: str


def render(template: MessageTemplate, customer: Customer | None, context: dict[str, Any] | None,
           channel: str, today: dt.date | None = None) -> Rendered:
    language = template.language
    values = {**customer_facts(customer, language, today), **{k: v for k, v in (context or {}).items()
                                                               if v is not None}}
    if values.get("offer"):  # a shipped rule's offer is an English msgid: say it in the message's language
        with force_locale(language):
            values["offer"] = gettext(str(values["offer"]))
    body = fill(template.body, values, language).strip()
    if template.purpose == "marketing" and channel == "sms" and "TD" not in body:
        body = f"{body} {OPT_OUT.get(language, OPT_OUT['zh'])}"
    subject = fill(template.subject, values, language).strip() if channel == "email" else None
    return Rendered(subject=subject or None, body=body, language=language, purpose=template.purpose)


def find(code: str, language: str, enabled_only: bool = True) -> MessageTemplate | None:
    """The template in `language`, else in the default language, else zh, else in any language there is
    (a customer always gets the message, in the best language available)."""
    stmt = select(MessageTemplate).where(MessageTemplate.code == code)
    if enabled_only:
        stmt = stmt.where(MessageTemplate.enabled.is_(True))
    found = {t.language: t for t in db.session.execute(stmt).scalars()}
    for lang in (language, default_language(), "zh", *LANGUAGES, *sorted(found)):
        if lang in found:
            return found[lang]
    return None


def has_enabled(code: str) -> bool:
    return db.session.execute(select(MessageTemplate.id).where(
        MessageTemplate.code == code, MessageTemplate.enabled.is_(True)).limit(1)).first() is not None


# --- managing templates -----------------------------------------------------------------------------

# `enabled` is not among them: a template is enabled only by `set_enabled`, after a preview.
FIELDS = ("code", "language", "name", "purpose", "channels", "subject", "body")


def _choice(value: Any, allowed: tuple[str, ...]) -> str:
    raw = str(value or "").strip()
    if raw not in allowed:
        raise FieldError(_("Not a valid choice: %(value)s.", value=raw))
    return raw


def _channels(value: Any) -> str:
    items = value if isinstance(value, (list, tuple)) else str(value or "").replace(" ", "").split(",")
    chosen = [c for c in CHANNELS if c in items]
    unknown = [c for c in items if c and c not in CHANNELS]
    if unknown or not chosen:
        raise FieldError(_("Choose sms, email or both (comma-separated)."))
    return ",".join(chosen)


def _text_with_placeholders(value: Any, limit: int, required: bool) -> str | None:
    text = check_text(value, limit, required=required)
    unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(text or "")} - set(PLACEHOLDERS))
    if unknown:
        raise FieldError(_("Unknown placeholder(s): %(names)s. Known: %(known)s.",
                           names=", ".join(unknown), known=", ".join(PLACEHOLDERS)))
    return text


SPEC = {
    "code": lambda v: check_text(v, 32, required=True),
    "language": lambda v: _choice(v, LANGUAGES),
    "name": lambda v: check_text(v, 128, required=True),
    "purpose": lambda v: _choice(v, PURPOSES),
    "channels": _channels,
    "subject": lambda v: _text_with_placeholders(v, 255, False),
    "body": lambda v: _text_with_placeholders(v, 2000, True),
}


def _clean(data: dict[str, Any], existing: MessageTemplate | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if existing is None:
        for required in ("code", "language", "name", "purpose", "channels", "body"):
            if data.get(required) in (None, ""):
                errors[required] = _("This field is required.")
    for name, fn in SPEC.items():
        if name in data and name not in errors:
            try:
                out[name] = fn(data[name])
            except FieldError as exc:
                errors[name] = str(exc)
    code = out.get("code", existing.code if existing else None)
    language = out.get("language", existing.language if existing else None)
    if code and language and not {"code", "language"} & set(errors):
        other = db.session.execute(select(MessageTemplate.id).where(
            MessageTemplate.code == code, MessageTemplate.language == language)).scalar()
        if other is not None and (existing is None or other != existing.id):
            errors["code"] = _("A %(language)s template with code %(code)s already exists.",
                               language=language, code=code)
    if errors:
        raise Invalid(errors)
    return out


def get(template_id: int) -> MessageTemplate:
    template = db.session.get(MessageTemplate, template_id)
    if template is None:
        raise NotFound()
    return template


def create(data: dict[str, Any], actor: Actor) -> MessageTemplate:
    """A new template, disabled until it is previewed and enabled."""
    values = _clean({k: v for k, v in data.items() if k in FIELDS}, None)
    template = MessageTemplate(**values)
    db.session.add(template)
    db.session.flush()
    audit.record(actor, "create", "message_template", template.id, {"after": values})
    db.session.commit()
    return template


def update(template_id: int, data: dict[str, Any], actor: Actor, version: Any = None) -> MessageTemplate:
    template = get(template_id)
    if version not in (None, ""):
        try:
            stale = int(version) != template.version
        except (TypeError, ValueError):
            raise Invalid({"version": _("Not a valid version: %(value)s.", value=version)}) from None
        if stale:
            raise Conflict(current={f: getattr(template, f) for f in FIELDS if f in data})
    values = _clean({k: v for k, v in data.items() if k in FIELDS}, template)
    changed = {k: v for k, v in values.items() if getattr(template, k) != v}
    if not changed:
        return template
    before = {k: getattr(template, k) for k in changed}
    for key, value in changed.items():
        setattr(template, key, value)
    audit.record(actor, "update", "message_template", template.id, {"before": before, "after": changed})
    db.session.commit()
    return template


def delete(template_id: int, actor: Actor) -> None:
    template = get(template_id)
    before = {"code": template.code, "language": template.language}
    db.session.delete(template)
    audit.record(actor, "delete", "message_template", template_id, {"before": before})
    db.session.commit()


def set_enabled(template_id: int, enabled: bool, actor: Actor, previewed_on: Any = None) -> MessageTemplate:
    """Enable (only after a preview on a real customer: `previewed_on` is its number or mobile) or disable."""
    template = get(template_id)
    if enabled and find_customer(previewed_on) is None:
        raise Invalid({"customer": _("Preview the template on a real customer before enabling it.")})
    if template.enabled == enabled:
        return template
    template.enabled = enabled
    after: dict[str, Any] = {"enabled": enabled}
    if enabled:
        after["previewed_on_customer"] = find_customer(previewed_on).id
    audit.record(actor, "update", "message_template", template.id, {"before": {"enabled": not enabled},
                                                                    "after": after})
    db.session.commit()
    return template


# --- preview ----------------------------------------------------------------------------------------


def find_customer(ref: Any) -> Customer | None:
    """A customer by id or by 11-digit mobile (the preview's picker)."""
    raw = str(ref or "").strip()
    if not raw.isdigit():
        return None
    if len(raw) == 11:
        found = db.session.execute(select(Customer).where(Customer.mobile == raw)).scalar()
        if found is not None:
            return found
    if len(raw) > 10:
        return None
    return db.session.get(Customer, int(raw))


SAMPLE_CONTEXT = {"ticket_no": "T20260101-0001", "ticket_type": "complaint", "ticket_subject": "…",
                  "survey_url": "https://example.invalid/survey/…", "campaign_name": "…"}


def preview(template_id: int, customer_ref: Any, today: dt.date | None = None) -> dict[str, Any]:
    """The template rendered for a real customer, per channel (nothing is queued or sent)."""
    template = get(template_id)
    customer = find_customer(customer_ref)
    if customer is None:
        raise Invalid({"customer": _("No customer with this number or mobile.")})
    facts = customer_facts(customer, template.language, today)
    out = {"customer": customer, "facts": facts, "channels": {}}
    for channel in template.channel_list:
        out["channels"][channel] = render(template, customer, SAMPLE_CONTEXT, channel, today)
    missing = sorted({m.group(1) for m in PLACEHOLDER.finditer((template.body or "") + (template.subject or ""))
                      if m.group(1) in CUSTOMER_KEYS and m.group(1) not in facts})
    out["missing"] = missing
    return out


# --- shipped templates ------------------------------------------------------------------------------

# code: (name, purpose, channels, {language: (subject, body)})
# Names are English msgids (pages translate them); texts are per language.
SHIPPED: dict[str, tuple[Any, str, str, dict[str, tuple[str, str]]]] = {
    "ticket_ack": (_l("Ticket acknowledgement"), "service", "sms,email", {
        "zh": ("您的工单 {{ ticket_no }} 已受理",
               "{{ salutation }}，您好！您的{{ ticket_type }}工单 {{ ticket_no }}（{{ ticket_subject }}）已受理，"
               "{{ department }}将尽快为您处理。"),
        "en": ("Your ticket {{ ticket_no }} has been received",
               "{{ salutation }}, we have received your {{ ticket_type }} ticket {{ ticket_no }} "
               "({{ ticket_subject }}). Our {{ department }} team will handle it shortly."),
    }),
    "ticket_transfer": (_l("Ticket transferred"), "service", "sms,email", {
        "zh": ("您的工单 {{ ticket_no }} 已转交{{ department }}",
               "{{ salutation }}，您好！您的工单 {{ ticket_no }} 已转交{{ department }}继续处理，"
               "您已提供的信息会一并转交，无需重复说明。"),
        "en": ("Your ticket {{ ticket_no }} was passed to {{ department }}",
               "{{ salutation }}, your ticket {{ ticket_no }} has been passed to our {{ department }} team. "
               "They have everything you already told us, so you will not need to repeat it."),
    }),
    "ticket_resolved": (_l("Ticket resolved"), "service", "sms,email", {
        "zh": ("您的工单 {{ ticket_no }} 已处理完毕",
               "{{ salutation }}，您好！您的工单 {{ ticket_no }} 已处理完毕。欢迎为本次服务评分：{{ survey_url }}"),
        "en": ("Your ticket {{ ticket_no }} is resolved",
               "{{ salutation }}, your ticket {{ ticket_no }} is resolved. Please rate our service: "
               "{{ survey_url }}"),
    }),
    # One per shipped care rule (code = the rule's code), used when a rule's action is SMS/email.
    "new_customer_revisit": (_l("New customer welcome"), "marketing", "sms", {
        "zh": ("欢迎使用{{ plan_name }}",
               "{{ salutation }}，感谢您选择我们！您的{{ plan_name }}已开通，使用中如有任何问题欢迎随时联系我们。"),
        "en": ("Welcome to {{ plan_name }}",
               "{{ salutation }}, thank you for choosing us! Your {{ plan_name }} is active. Contact us any "
               "time if anything is not working as you expect."),
    }),
    "revisit_high_value": (_l("High-value customer care"), "marketing", "sms", {
        "zh": ("感谢您的长期支持",
               "{{ salutation }}，感谢您的长期支持！上月您使用流量{{ data_used }}（套餐含{{ data_allowance }}），"
               "为您推荐：{{ suggested_plan }}。"),
        "en": ("Thank you for your loyalty",
               "{{ salutation }}, thank you for staying with us! Last month you used {{ data_used }} of "
               "{{ data_allowance }}. Our suggestion for you: {{ suggested_plan }}."),
    }),
    "revisit_ordinary": (_l("Regular customer care"), "marketing", "sms", {
        "zh": ("您的套餐使用情况",
               "{{ salutation }}，您好！上月您使用流量{{ data_used }}（套餐含{{ data_allowance }}，"
               "{{ data_usage_pct }}），为您推荐：{{ suggested_plan }}。"),
        "en": ("Your plan and your usage",
               "{{ salutation }}, last month you used {{ data_used }} of {{ data_allowance }} "
               "({{ data_usage_pct }}). Our suggestion for you: {{ suggested_plan }}."),
    }),
    "plan_expiry_reminder": (_l("Plan expiry reminder"), "marketing", "sms", {
        "zh": ("您的套餐即将到期",
               "{{ salutation }}，您的{{ plan_name }}将于{{ expiry_date }}到期。续约优惠：{{ offer }}"),
        "en": ("Your plan expires soon",
               "{{ salutation }}, your {{ plan_name }} expires on {{ expiry_date }}. Renewal offer: {{ offer }}"),
    }),
    "birthday_greeting": (_l("Birthday greeting"), "marketing", "sms", {
        "zh": ("生日快乐", "{{ salutation }}，祝您生日快乐！感谢您一直以来的支持。"),
        "en": ("Happy birthday", "{{ salutation }}, happy birthday! Thank you for being with us."),
    }),
    "arrears_reminder": (_l("Arrears reminder"), "service", "sms", {
        "zh": ("缴费提醒",
               "{{ salutation }}，您的号码（尾号{{ mobile_tail }}）当前欠费{{ arrears_amount }}元，已逾期"
               "{{ arrears_days }}天，请及时通过App、银行代扣、支付宝、微信或营业厅缴费，以免影响使用。"),
        "en": ("Payment reminder",
               "{{ salutation }}, your line ending {{ mobile_tail }} has CNY {{ arrears_amount }} overdue for "
               "{{ arrears_days }} days. Please pay in the app, by bank withholding, Alipay, WeChat Pay or in "
               "a store to avoid suspension."),
    }),
}


def ensure_defaults(actor: Actor = SYSTEM) -> int:
    """Create the shipped templates that do not exist yet (by code and language); enabled; never
    changes an existing one. Returns how many were created."""
    existing = set(db.session.execute(select(MessageTemplate.code, MessageTemplate.language)).tuples())
    created = 0
    for code, (name, purpose, channels, texts) in SHIPPED.items():
        for language, (subject, body) in texts.items():
            if (code, language) in existing:
                continue
            with force_locale("en"):
                msgid = str(name)
            db.session.add(MessageTemplate(code=code, language=language, name=msgid, purpose=purpose,
                                           channels=channels, subject=subject, body=body, enabled=True))
            created += 1
    if created:
        audit.record(actor, "create", "message_template", None, {"after": {"shipped": created}})
    db.session.commit()
    return created
