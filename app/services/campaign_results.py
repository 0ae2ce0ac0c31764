"""Campaign results (营销活动效果): attribution of responses and conversions, and the report.

* A response is the campaign's call task completed as reached / wants an offer (message replies
  are not modelled, so message campaigns report no response rate).
* A conversion is the customer's first order (not draft/rejected), plan change or new line within
  the campaign's N days after the contact (`CampaignContact.window_ends_at`).

`attribute` is a handful of set-based UPDATEs (the `campaign_attribution` job every night, or on
demand from the report page); rerunning it changes nothing. The report groups contacts by day of contact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, func, select, update

from app.extensions import db
from app.models.business_change import BusinessChange
from app.models.campaign import Campaign, CampaignContact
from app.models.care import CareTask
from app.models.order import SalesOrder
from app.models.subscription import Subscription
from app.services.campaigns import get
from app.services.care import business_date

RESPONSE_OUTCOMES = ("reached", "wants_offer")
CONVERTING_ORDER_STATES = ("submitted", "approved", "delivered", "collected", "closed")


# --- attribution -----------------------------------------------------------------------------------


def _first(stmt: Any) -> Any:
    return stmt.scalar_subquery()


def attribute(now: dt.datetime, campaign_id: int | None = None) -> dict[str, int]:
    """Fill responses and conversions of launched campaigns (set-based UPDATEs); close finished ones."""
    today = business_date(now)
    active = select(Campaign.id).where(Campaign.status.in_(("launched", "running", "done")))
    if campaign_id is not None:
        active = active.where(Campaign.id == campaign_id)
    cc = CampaignContact
    scope = [cc.campaign_id.in_(active)]
    task_done = [CareTask.source_type == "campaign", CareTask.source_id == cc.campaign_id,
                 CareTask.customer_id == cc.customer_id, CareTask.status == "done",
                 CareTask.outcome.in_(RESPONSE_OUTCOMES)]
    responded = db.session.execute(
        update(cc).where(*scope, cc.responded_at.is_(None), exists().where(*task_done))
        .values(responded_at=_first(select(func.min(CareTask.completed_at)).where(*task_done)))
        .execution_options(synchronize_session=False)).rowcount
    sources = (
        ("order", SalesOrder.created_at, [SalesOrder.customer_id == cc.customer_id,
                                          SalesOrder.state.in_(CONVERTING_ORDER_STATES)]),
        ("plan_change", BusinessChange.created_at, [BusinessChange.customer_id == cc.customer_id,
                                                    BusinessChange.change_type == "plan_change"]),
        ("subscription", Subscription.created_at, [Subscription.customer_id == cc.customer_id]),
    )
    converted = 0
    for kind, at, match in sources:
        in_window = [*match, at >= cc.contacted_at, at < cc.window_ends_at]
        # An earlier conversion of another kind wins: the first event after the contact counts.
        earlier = (cc.converted_at.is_(None)) | (cc.converted_at > _first(select(func.min(at)).where(*in_window)))
        converted += db.session.execute(
            update(cc).where(*scope, exists().where(*in_window), earlier)
            .values(converted_at=_first(select(func.min(at)).where(*in_window)), conversion_kind=kind)
            .execution_options(synchronize_session=False)).rowcount
    closed = db.session.execute(
        update(Campaign).where(Campaign.status == "running", Campaign.end_date < today)
        .values(status="done", version=Campaign.version + 1).execution_options(synchronize_session=False)).rowcount
    db.session.execute(update(Campaign).where(Campaign.id.in_(active)).values(attributed_at=now)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    return {"responded": responded, "converted": converted, "closed": closed}


# --- report ----------------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class DayRow:
    day: dt.date
    contacted: int
    responded: int
    converted: int

    @property
    def response_rate(self) -> float | None:
        return _rate(self.responded, self.contacted)

    @property
    def conversion_rate(self) -> float | None:
        return _rate(self.converted, self.contacted)


@dataclass
class Report:
    campaign: Campaign
    contacted: int
    responded: int
    converted: int
    by_day: list[DayRow]
    by_kind: dict[str, int]
    responses_measured: bool

    @property
    def response_rate(self) -> float | None:
        return _rate(self.responded, self.contacted) if self.responses_measured else None

    @property
    def conversion_rate(self) -> float | None:
        return _rate(self.converted, self.contacted)


def report(campaign_id: int) -> Report:
    """Contacted / responded / converted, in total and by day of contact."""
    campaign = get(campaign_id)
    cc = CampaignContact
    rows = db.session.execute(
        select(cc.contact_day, func.count(), func.count(cc.responded_at), func.count(cc.converted_at))
        .where(cc.campaign_id == campaign.id).group_by(cc.contact_day).order_by(cc.contact_day)).all()
    by_day = []
    for day, n, r, c in rows:
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        by_day.append(DayRow(day, int(n), int(r), int(c)))
    kinds = dict(db.session.execute(
        select(cc.conversion_kind, func.count()).where(cc.campaign_id == campaign.id, cc.converted_at.is_not(None))
        .group_by(cc.conversion_kind)).all())
    return Report(campaign, sum(d.contacted for d in by_day), sum(d.responded for d in by_day),
                  sum(d.converted for d in by_day), by_day, {k: int(v) for k, v in kinds.items()},
                  campaign.channel == "call")


def report_rows(rep: Report) -> Iterator[list[Any]]:
    """Rows of the report export: one per day of contact, then the total."""
    for d in rep.by_day:
        yield [d.day.isoformat(), d.contacted, d.responded if rep.responses_measured else "", d.converted,
               d.response_rate if rep.responses_measured and d.response_rate is not None else "",
               d.conversion_rate if d.conversion_rate is not None else ""]
    yield [_("Total"), rep.contacted, rep.responded if rep.responses_measured else "", rep.converted,
           rep.response_rate if rep.response_rate is not None else "",
           rep.conversion_rate if rep.conversion_rate is not None else ""]
