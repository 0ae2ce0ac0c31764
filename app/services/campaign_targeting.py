"""Campaign targeting: the filters a manager sets, checked, and the ONE set-based SQL query they become.

`conditions()` is the whole target: preview count, preview sample and every launch batch use it,
so what the manager previews is what the launch contacts. Besides the manager's filters it always
applies the rules no campaign may bend:

* consent — only customers with marketing consent (`consent_marketing`); closed accounts never;
* an address on the channel (email campaigns need an email address);
* the frequency cap — a customer already contacted by `CRM_CAMPAIGN_MONTHLY_CAP` (default 2) other
  campaigns in the calendar month (operator's time zone) is left out. 0 turns the cap off.

Filters (JSON on the campaign, every key optional): segments [..], cities [..], plan_type,
plan_ids [..], statuses [active|suspended] (default both), tenure_min_days / tenure_max_days (days
since the customer was created), age_min / age_max (years, from the birth date), churn_band
(low|medium|high, from the latest churn score), arrears (true: has an overdue unpaid bill; false: none).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import exists, func, select

from app.models.analytics import ChurnScore
from app.models.bill import Bill
from app.models.campaign import CampaignContact
from app.models.customer import SEGMENTS, Customer
from app.models.plan import PLAN_TYPES, Plan
from app.services import arrears
from app.services.care_kinds import local_day_start_utc
from app.services.errors import Invalid
from app.services.validation import FieldError, check_bool, check_choice, check_int

TARGET_STATUSES = ("active", "suspended")
CHURN_BANDS = ("low", "medium", "high")
FILTER_KEYS = ("segments", "cities", "plan_type", "plan_ids", "statuses", "tenure_min_days", "tenure_max_days",
               "age_min", "age_max", "churn_band", "arrears")


def monthly_cap() -> int:
    value = current_app.config.get("CRM_CAMPAIGN_MONTHLY_CAP", 2) if has_app_context() else 2
    return max(int(value), 0)


def _list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return [v for v in value if v not in (None, "")]
    raise FieldError(_("Must be a list."))


def _choices(value: Any, allowed: tuple[str, ...]) -> list[str]:
    items = [str(v) for v in _list(value)]
    for item in items:
        if item not in allowed:
            raise FieldError(_("Not a valid choice: %(value)s.", value=item))
    return sorted(set(items))


def _cities(value: Any) -> list[str]:
    items = [str(v).strip() for v in _list(value)]
    for item in items:
        if len(item) > 32:
            raise FieldError(_("At most %(n)d characters.", n=32))
    return sorted(set(items))


def _ids(value: Any) -> list[int]:
    return sorted({check_int(v, minimum=1) for v in _list(value)})


def clean_filters(raw: Any) -> dict[str, Any]:
    """Checked filters (unknown keys refused); errors are keyed `filters.<key>`."""
    if raw in (None, ""):
        raw = {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise Invalid({"filters": _("Not valid JSON.")}) from None
    if not isinstance(raw, dict):
        raise Invalid({"filters": _("Must be a JSON object.")})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key in raw:
        if key not in FILTER_KEYS:
            errors[f"filters.{key}"] = _("Unknown field.")
    checks = {
        "segments": lambda v: _choices(v, SEGMENTS),
        "cities": _cities,
        "plan_type": lambda v: check_choice(v or None, PLAN_TYPES, required=False),
        "plan_ids": _ids,
        "statuses": lambda v: _choices(v, TARGET_STATUSES),
        "tenure_min_days": lambda v: check_int(v, required=False, minimum=0, maximum=36500),
        "tenure_max_days": lambda v: check_int(v, required=False, minimum=0, maximum=36500),
        "age_min": lambda v: check_int(v, required=False, minimum=0, maximum=120),
        "age_max": lambda v: check_int(v, required=False, minimum=0, maximum=120),
        "churn_band": lambda v: check_choice(v or None, CHURN_BANDS, required=False),
        "arrears": lambda v: None if v in (None, "") else check_bool(v),
    }
    for key, check in checks.items():
        if key not in raw:
            continue
        try:
            value = check(raw[key])
        except FieldError as exc:
            errors[f"filters.{key}"] = str(exc)
            continue
        if value not in (None, []):
            out[key] = value
    for low, high in (("tenure_min_days", "tenure_max_days"), ("age_min", "age_max")):
        if low in out and high in out and out[low] > out[high]:
            errors[f"filters.{high}"] = _("Must not be less than the minimum.")
    if errors:
        raise Invalid(errors)
    return out


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


def _churn_condition(band: str) -> Any:
    from app.services.churn import high_risk_threshold

    high = high_risk_threshold()
    low = high / 2
    score = {"high": ChurnScore.score >= high, "medium": (ChurnScore.score >= low) & (ChurnScore.score < high),
             "low": ChurnScore.score < low}[band]
    return Customer.id.in_(select(ChurnScore.customer_id).where(score))


def month_bounds_utc(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The calendar month of `day` (operator's time zone) as naive UTC instants [start, end)."""
    first = day.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return local_day_start_utc(first), local_day_start_utc(nxt)


def capped_customers(day: dt.date, exclude_campaign_id: int | None, cap: int) -> Any:
    """Customers already contacted by `cap` or more other campaigns in the month of `day`."""
    start, end = month_bounds_utc(day)
    stmt = (select(CampaignContact.customer_id)
            .where(CampaignContact.contacted_at >= start, CampaignContact.contacted_at < end))
    if exclude_campaign_id is not None:
        stmt = stmt.where(CampaignContact.campaign_id != exclude_campaign_id)
    return stmt.group_by(CampaignContact.customer_id).having(func.count() >= cap)


def conditions(filters: dict[str, Any], day: dt.date, channel: str, campaign_id: int | None = None) -> list[Any]:
    """WHERE conditions on `Customer` selecting the campaign's target on business day `day`."""
    where: list[Any] = [
        Customer.consent_marketing.is_(True),
        Customer.status.in_(filters.get("statuses") or TARGET_STATUSES),
    ]
    if channel == "email":
        where += [Customer.email.is_not(None), Customer.email != ""]
    if filters.get("segments"):
        where.append(Customer.segment.in_(filters["segments"]))
    if filters.get("cities"):
        where.append(Customer.city.in_(filters["cities"]))
    if filters.get("plan_type"):
        where.append(Customer.plan_id.in_(select(Plan.id).where(Plan.plan_type == filters["plan_type"])))
    if filters.get("plan_ids"):
        where.append(Customer.plan_id.in_(filters["plan_ids"]))
    if filters.get("tenure_min_days") is not None:  # created on or before day - min
        where.append(Customer.created_at < local_day_start_utc(day - dt.timedelta(days=filters["tenure_min_days"] - 1)))
    if filters.get("tenure_max_days") is not None:  # created on or after day - max
        where.append(Customer.created_at >= local_day_start_utc(day - dt.timedelta(days=filters["tenure_max_days"])))
    if filters.get("age_min") is not None:  # born on or before the day `age_min` years ago
        where.append(Customer.birth_date <= _years_before(day, filters["age_min"]))
    if filters.get("age_max") is not None:  # not yet `age_max + 1` years old
        where.append(Customer.birth_date > _years_before(day, filters["age_max"] + 1))
    if filters.get("churn_band"):
        where.append(_churn_condition(filters["churn_band"]))
    if filters.get("arrears") is not None:
        overdue = exists().where(Bill.customer_id == Customer.id, arrears.overdue_condition(day))
        where.append(overdue if filters["arrears"] else ~overdue)
    cap = monthly_cap()
    if cap:
        where.append(Customer.id.not_in(capped_customers(day, campaign_id, cap)))
    return where
