"""Care rule kinds: when a rule fires, as classes in one registry (`KINDS`), not an if-chain.

Each kind turns (rule, params, day) into `Occurrence`s: SQL conditions on `Customer` (plus an
optional grouped source to join), the occurrence key that makes a task unique for a customer and
rule, the task's due date and priority. `app.services.care.run_daily` turns every occurrence into
one set-based INSERT … SELECT … ON CONFLICT DO NOTHING. Kinds never loop over customers.

`day` is the trigger day (the day a task is created); the task is due `rule.lead_days` later.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, exists, extract, func, literal, or_, select

from app.models.bill import Bill
from app.models.customer import Customer
from app.models.subscription import Subscription
from app.services.validation import FieldError
from app.timefmt import local_zone


def local_day_start_utc(day: dt.date) -> dt.datetime:
    """Naive UTC instant at which the business day `day` begins (timestamps are naive UTC)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=local_zone())
    return start.astimezone(dt.UTC).replace(tzinfo=None)


@dataclass
class Occurrence:
    where: list[Any]
    key: Any  # a str, or an SQL expression over `source`
    due: dt.date
    priority: str = "normal"
    source: Any = None  # a subquery with a `customer_id` column, joined to Customer
    extra: dict[str, Any] = field(default_factory=dict)


def _int(value: Any, name: str, lo: int, hi: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise FieldError(_("%(name)s must be a whole number.", name=name)) from None
    if not lo <= number <= hi:
        raise FieldError(_("%(name)s must be between %(lo)d and %(hi)d.", name=name, lo=lo, hi=hi))
    return number


def _offsets(value: Any, name: str = "offsets") -> list[int]:
    if not isinstance(value, list) or not value:
        raise FieldError(_("%(name)s must be a non-empty list of days, e.g. [7, 30].", name=name))
    out = sorted({_int(v, name, 0, 366) for v in value})
    return out


class RuleKind:
    key: ClassVar[str]
    label: ClassVar[Any]
    default_params: ClassVar[dict[str, Any]] = {}

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {}

    def occurrences(self, params: dict[str, Any], day: dt.date, lead_days: int) -> list[Occurrence]:
        raise NotImplementedError

    def describe(self, task: Any, params: dict[str, Any]) -> str:
        return ""


class NewCustomerRevisit(RuleKind):
    """新客户回访: N days after the account was opened (first line's effective date, else created)."""

    key = "new_customer"
    label = _l("New customer revisit")
    default_params = {"offsets": [7, 30]}

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"offsets": _offsets(params.get("offsets"))}

    def occurrences(self, params: dict[str, Any], day: dt.date, lead_days: int) -> list[Occurrence]:
        due = day + dt.timedelta(days=lead_days)
        out = []
        for offset in params["offsets"]:
            opened = due - dt.timedelta(days=offset)
            # First line effective that day: a line then and none before (not MIN() over every
            # customer's lines). Two occurrences with one key instead of an OR, so that each is
            # an indexed lookup rather than a scan of all customers (issue 5.9: 1 M customers).
            lines_that_day = select(Subscription.customer_id).where(Subscription.effective_date == opened)
            first_line = [Customer.id.in_(lines_that_day),
                          ~exists().where(Subscription.customer_id == Customer.id,
                                          Subscription.effective_date < opened)]
            no_line = ~exists().where(Subscription.customer_id == Customer.id)
            created_that_day = and_(Customer.created_at >= local_day_start_utc(opened),
                                    Customer.created_at < local_day_start_utc(opened + dt.timedelta(days=1)))
            for where in (first_line, [created_that_day, no_line]):
                out.append(Occurrence(where=where, key=f"d{offset}", due=due, extra={"offset": offset}))
        return out

    def describe(self, task: Any, params: dict[str, Any]) -> str:
        return _("Day %(n)s after the account was opened", n=task.occurrence_key.lstrip("d"))


class PeriodicRevisit(RuleKind):
    """定期回访: every N days. Customers are spread evenly over the cycle by customer number
    (a customer is due on the days where day-number ≡ customer id mod N), so each day carries
    1/N of the target group and each customer is due exactly once per cycle."""

    key = "periodic"
    label = _l("Periodic revisit")
    default_params = {"interval_days": 90}

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"interval_days": _int(params.get("interval_days"), "interval_days", 7, 730)}

    def occurrences(self, params: dict[str, Any], day: dt.date, lead_days: int) -> list[Occurrence]:
        due = day + dt.timedelta(days=lead_days)
        n = params["interval_days"]
        return [Occurrence(where=[Customer.id % n == due.toordinal() % n], key=f"p{due.isoformat()}", due=due)]

    def describe(self, task: Any, params: dict[str, Any]) -> str:
        return _("Regular revisit, every %(n)s days", n=params.get("interval_days", "?"))


class PlanExpiryReminder(RuleKind):
    """套餐到期提醒: N days before a line's expiry date, with a suggested renewal offer."""

    key = "plan_expiry"
    label = _l("Plan expiry reminder")
    default_params = {"offsets": [30, 7], "offer": ""}

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        offer = str(params.get("offer") or "").strip()
        if len(offer) > 255:
            raise FieldError(_("At most %(n)d characters.", n=255))
        return {"offsets": _offsets(params.get("offsets")), "offer": offer}

    def occurrences(self, params: dict[str, Any], day: dt.date, lead_days: int) -> list[Occurrence]:
        due = day + dt.timedelta(days=lead_days)
        out = []
        for offset in params["offsets"]:
            expiry = due + dt.timedelta(days=offset)
            lines = select(Subscription.customer_id).where(Subscription.expiry_date == expiry,
                                                           Subscription.status != "terminated")
            out.append(Occurrence(where=[Customer.id.in_(lines)], key=f"exp:{expiry.isoformat()}:{offset}",
                                  due=due, priority="high" if offset <= 7 else "normal"))
        return out

    def describe(self, task: Any, params: dict[str, Any]) -> str:
        parts = task.occurrence_key.split(":")
        text = _("Plan expires on %(date)s (%(n)s days' notice)", date=parts[1], n=parts[2])
        if params.get("offer"):
            text += " · " + _("Suggested offer: %(offer)s", offer=_(params["offer"]))
        return text


class BirthdayGreeting(RuleKind):
    """生日关怀: on the birthday (from the resident ID), only for customers who consented to marketing.
    A 29 February birthday is greeted on 28 February in common years."""

    key = "birthday"
    label = _l("Birthday greeting")

    def occurrences(self, params: dict[str, Any], day: dt.date, lead_days: int) -> list[Occurrence]:
        due = day + dt.timedelta(days=lead_days)
        same_day = and_(extract("month", Customer.birth_date) == due.month,
                        extract("day", Customer.birth_date) == due.day)
        if due.month == 2 and due.day == 28 and not calendar.isleap(due.year):
            same_day = or_(same_day, and_(extract("month", Customer.birth_date) == 2,
                                          extract("day", Customer.birth_date) == 29))
        where = [Customer.consent_marketing.is_(True), Customer.birth_date.is_not(None), same_day]
        return [Occurrence(where=where, key=f"{due.year}", due=due)]

    def describe(self, task: Any, params: dict[str, Any]) -> str:
        return _("Birthday on %(date)s", date=task.due_date.isoformat())


class ArrearsReminder(RuleKind):
    """欠费提醒: unpaid overdue amount > 0 aged ≥ min_days; from escalate_days on, a call task
    (high priority). One task per arrears episode (keyed by the oldest overdue due date) and stage."""

    key = "arrears"
    label = _l("Arrears reminder")
    default_params = {"min_days": 15, "escalate_days": 45}

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        low = _int(params.get("min_days"), "min_days", 1, 365)
        high = _int(params.get("escalate_days"), "escalate_days", 1, 730)
        if high <= low:
            raise FieldError(_("escalate_days must be greater than min_days."))
        return {"min_days": low, "escalate_days": high}

    def occurrences(self, params: dict[str, Any], day: dt.date, lead_days: int) -> list[Occurrence]:
        due = day + dt.timedelta(days=lead_days)
        # The arrears definition of app/services/arrears.py: status != 'paid' and due_date < day.
        oldest = func.min(Bill.due_date)
        low, high = params["min_days"], params["escalate_days"]
        stages = (("a", day - dt.timedelta(days=high), day - dt.timedelta(days=low), "normal"),
                  ("e", None, day - dt.timedelta(days=high), "high"))
        out = []
        for stage, after, through, priority in stages:
            having = [func.sum(Bill.total - Bill.paid_amount) > 0, oldest <= through]
            if after is not None:
                having.append(oldest > after)
            src = (select(Bill.customer_id.label("customer_id"), oldest.label("oldest"))
                   .where(Bill.status != "paid", Bill.due_date < day)
                   .group_by(Bill.customer_id).having(*having)).subquery()
            key = literal(f"{stage}:", String).concat(cast(src.c.oldest, String))
            out.append(Occurrence(where=[], key=key, due=due, priority=priority, source=src))
        return out

    def describe(self, task: Any, params: dict[str, Any]) -> str:
        stage, _sep, since = task.occurrence_key.partition(":")
        if stage == "e":
            return _("In arrears since %(date)s for %(n)s days or more: call the customer",
                     date=since, n=params.get("escalate_days", "?"))
        return _("In arrears since %(date)s for %(n)s days or more", date=since, n=params.get("min_days", "?"))


KINDS: dict[str, RuleKind] = {k.key: k() for k in (
    NewCustomerRevisit, PeriodicRevisit, PlanExpiryReminder, BirthdayGreeting, ArrearsReminder)}


def kind_choices() -> list[tuple[str, Any]]:
    return [(key, kind.label) for key, kind in KINDS.items()]
