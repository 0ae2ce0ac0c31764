"""Sales area (issue 3): labels and choice lists, and one transaction across several services.

The foundation's services (customers, payments, subscriptions) each commit. A sales operation that
calls several of them (lead conversion, collecting an order) must be all-or-nothing, so it runs
them inside `one_transaction()`: their commits become flushes and only the end commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask_babel import lazy_gettext as _l

from app.extensions import db

SOURCE_LABELS = {
    "walk_in": _l("Walk-in store"), "hotline": _l("Hotline"), "website": _l("Website"),
    "social": _l("Social media"), "partner": _l("Partner"), "campaign": _l("Campaign"),
}
LEAD_STATUS_LABELS = {
    "new": _l("New"), "contacted": _l("Contacted"), "qualified": _l("Qualified"),
    "disqualified": _l("Disqualified"), "converted": _l("Converted"),
}
STAGE_LABELS = {
    "potential": _l("Potential"), "intent": _l("Intent"), "negotiation": _l("Negotiation"),
    "won": _l("Won"), "lost": _l("Lost"),
}
METHOD_LABELS = {
    "phone": _l("Phone"), "sms": _l("SMS"), "email": _l("Email"), "face_to_face": _l("Face to face"),
    "wechat": _l("WeChat"),
}
ORDER_STATE_LABELS = {
    "draft": _l("Draft"), "submitted": _l("Submitted"), "approved": _l("Approved"), "rejected": _l("Rejected"),
    "delivered": _l("Delivered"), "collected": _l("Paid / collected"), "closed": _l("Closed"),
}
LINE_KIND_LABELS = {"plan": _l("Plan"), "vas": _l("Value-added service"), "device": _l("Device")}


def choices(labels: dict) -> list[tuple[str, object]]:
    return list(labels.items())


@contextmanager
def one_transaction() -> Iterator[None]:
    """Run several committing services as one transaction: inside, `commit()` only flushes; the
    block commits once at its end, and any exception rolls everything back."""
    session = db.session()
    if "commit" in vars(session):  # already inside: the outer block commits
        yield
        return
    session.commit = session.flush  # type: ignore[method-assign]
    try:
        yield
    except BaseException:
        del session.commit
        session.rollback()
        raise
    del session.commit
    session.commit()


RELATIONS = ("owner", "interest_plan", "plan", "customer", "lead", "opportunity", "vas")


def with_ids(data: dict) -> dict:
    """Relations as ids: an API body or form may say `owner` (FAB's column name) or `owner_id`."""
    out = dict(data)
    for name in RELATIONS:
        if name in out:
            value = out.pop(name)
            if hasattr(value, "id"):
                value = value.id
            out.setdefault(f"{name}_id", value)
    return out
