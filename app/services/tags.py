"""Customer tags (客户标签): a small vocabulary of labels, linked to customers at most once each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.tag import Tag, customer_tag
from app.services.errors import Invalid
from app.services.validation import FieldError, check_text

TAG_MAX = 32


def clean_name(value: Any) -> str:
    """A tag name: trimmed, 1–32 characters (the `tag` field's message otherwise)."""
    try:
        name = check_text(value, TAG_MAX, required=True)
    except FieldError as exc:
        raise Invalid({"tag": str(exc)}) from None
    return str(name)


def get_or_create(name: str) -> Tag:
    """The tag of that name, added to the session (not committed) when new."""
    tag = db.session.execute(select(Tag).where(Tag.name == name)).scalar_one_or_none()
    if tag is None:
        tag = Tag(name=name)
        db.session.add(tag)
        db.session.flush()
    return tag


def tagged_among(tag_id: int, customer_ids: list[int]) -> set[int]:
    """Which of these customers already carry the tag (one query per batch, not per customer)."""
    if not customer_ids:
        return set()
    stmt = select(customer_tag.c.customer_id).where(
        customer_tag.c.tag_id == tag_id, customer_tag.c.customer_id.in_(customer_ids))
    return set(db.session.execute(stmt).scalars())


def link(tag_id: int, customer_ids: list[int]) -> None:
    """Tag these customers (the caller has left out those already tagged); no commit."""
    if customer_ids:
        now = utcnow()
        db.session.execute(customer_tag.insert(), [
            {"customer_id": cid, "tag_id": tag_id, "created_at": now} for cid in customer_ids])


def names_of(customer_id: int) -> list[str]:
    stmt = (select(Tag.name).join(customer_tag, customer_tag.c.tag_id == Tag.id)
            .where(customer_tag.c.customer_id == customer_id).order_by(Tag.name))
    return list(db.session.execute(stmt).scalars())


def all_names() -> list[str]:
    return list(db.session.execute(select(Tag.name).order_by(Tag.name)).scalars())
