"""Helpers for the hardening tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db


@contextlib.contextmanager
def settings(app: Any, **values: Any) -> Iterator[None]:
    """Change app settings for a few requests, then put them back."""
    old = {k: app.config.get(k) for k in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(old)


def audit_actions(app: Any, action: str) -> list[Any]:
    from app.models.audit_log import AuditLog

    with app.app_context():
        stmt = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        return list(db.session.execute(stmt).scalars())


@pytest.fixture
def drop_users(app: Any) -> Iterator[list[str]]:
    """Usernames appended here are deleted after the test (FAB's user table is kept between tests)."""
    names: list[str] = []
    yield names
    from app.extensions import appbuilder

    with app.app_context():
        for name in names:
            user = appbuilder.sm.find_user(username=name)
            if user is not None:
                user.roles = []
                db.session.delete(user)
        db.session.commit()
