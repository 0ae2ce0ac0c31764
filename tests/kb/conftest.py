"""Knowledge-base tests: articles are written through the service, as a manager would."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.kb import KbArticle, KbCategory
from tests.conftest import actor_for


def category(code: str) -> KbCategory:
    return db.session.execute(select(KbCategory).where(KbCategory.code == code)).scalar_one()


def article(title: str, body: str, status: str = "published", **extra: Any) -> KbArticle:
    from app.services import kb

    return kb.create({"title": title, "body": body, "status": status, **extra}, actor_for("manager"))
