"""Helpers for HTTP tests.

Test data is built through the services inside a short-lived app context, and handed back as
plain values: an app context held open across test-client requests would share `flask.g` (and
so the signed-in user) between requests, which never happens in a real server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import prison
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.bill import Bill
from tests.conftest import actor_for, login
from tests.factories import customer_data, make_customer, make_plan


def _customer_values(c: Any) -> SimpleNamespace:
    from app.services.customers import reveal_value

    return SimpleNamespace(id=c.id, name=c.name, mobile=c.mobile, id_number=reveal_value(c),
                           id_number_masked=c.id_number_masked, mobile_masked=c.mobile_masked,
                           owner_id=c.owner_id, version=c.version, city=c.city, address=c.address)


@pytest.fixture
def in_app(app):  # noqa: ANN001, ANN201
    """`with in_app(): ...` — a fresh app context for reading the database between requests."""

    @contextlib.contextmanager
    def _ctx() -> Iterator[None]:
        with app.app_context():
            yield

    return _ctx


@pytest.fixture
def make(app):  # noqa: ANN001, ANN201
    """Builders going through the services: `make.customer("sales1", city=...)`, `make.bill(c, "100.00")`."""

    class _Make:
        data = staticmethod(customer_data)

        @staticmethod
        def customer(username: str = "clerk1", **overrides: Any) -> SimpleNamespace:
            with app.app_context():
                return _customer_values(make_customer(actor_for(username), **overrides))

        @staticmethod
        def plan(username: str = "manager", **overrides: Any) -> SimpleNamespace:
            with app.app_context():
                p = make_plan(actor_for(username), **overrides)
                return SimpleNamespace(id=p.id, code=p.code, name=p.name)

        @staticmethod
        def line(customer: Any, plan: Any, number: str | None = None, username: str = "clerk1") -> SimpleNamespace:
            from app.services import subscriptions

            with app.app_context():
                s = subscriptions.open_line({"customer_id": customer.id, "plan_id": plan.id,
                                             "number": number or customer.mobile}, actor_for(username))
                return SimpleNamespace(id=s.id, number=s.number, customer_id=s.customer_id)

        @staticmethod
        def bill(customer: Any, total: str = "100.00", month: dt.date = dt.date(2026, 1, 1),
                 due: dt.date = dt.date(2026, 2, 15)) -> SimpleNamespace:
            # Bills come from billing runs; here a row is enough to pay against.
            with app.app_context():
                b = Bill(customer_id=customer.id, month=month, base_fee=Decimal(total), total=Decimal(total),
                         paid_amount=Decimal("0"), due_date=due, status="unpaid")
                db.session.add(b)
                db.session.commit()
                return SimpleNamespace(id=b.id, customer_id=customer.id, total=Decimal(total))

    return _Make


def user_id(app: Any, username: str) -> int:
    with app.app_context():
        return actor_for(username).id


def q(**kwargs: Any) -> str:
    """A rison `q=` argument."""
    return prison.dumps(kwargs)


def eq_filter(col: str, value: Any) -> str:
    return q(filters=[{"col": col, "opr": "eq", "value": value}])


def audit_rows(app: Any, action: str | None = None) -> list[SimpleNamespace]:
    with app.app_context():
        stmt = select(AuditLog).order_by(AuditLog.id)
        if action:
            stmt = stmt.where(AuditLog.action == action)
        return [SimpleNamespace(id=a.id, action=a.action, actor_name=a.actor_name, entity=a.entity,
                                entity_id=a.entity_id, changes=a.changes or "")
                for a in db.session.execute(stmt).scalars()]


@pytest.fixture
def browser(app):  # noqa: ANN001, ANN201
    """A second, independent browser session (its own cookies): `browser("manager")`."""

    def _new(username: str) -> Any:
        c = app.test_client()
        login(c, username)
        return c

    return _new


def page(resp: Any) -> str:
    return resp.get_data(as_text=True)


class _FormParser(HTMLParser):
    """The values a browser would submit from the page's main form, plus the errors shown per field."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self.errors: dict[str, list[str]] = {}
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None
        self._last_field: str | None = None
        self._in_error = False
        self._error_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name:
            self._last_field = name
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values[name] = a.get("value") or "y"
            elif a.get("type") not in ("submit", "button"):
                self.values[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._select_first, self._last_field = name, None, name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select:
            if self._select_first is None:
                self._select_first = a.get("value", "")
            if "selected" in a:
                self.values[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea, self._last_field = name, name
            self.values[name] = ""
        elif tag == "div" and "alert-danger" in a.get("class", "") and self._last_field:
            self._in_error, self._error_text = True, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "div" and self._in_error:
            self._in_error = False
            self.errors.setdefault(self._last_field, []).append(self._error_text.strip())
        elif tag == "tr":
            self._last_field = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data
        if self._in_error:
            self._error_text += data


def form_of(resp: Any) -> _FormParser:
    parser = _FormParser()
    parser.feed(page(resp))
    return parser


def flashes(resp: Any, category: str) -> list[str]:
    """Text of the flashed messages of one category (`danger`, `warning`, `success`, `info`)."""
    html = page(resp)
    return [unescape(re.sub(r"<[^>]+>", "", m)).strip()
            for m in re.findall(rf'<div class="alert alert-{category}[^"]*">(.*?)</div>', html, re.S)]


def tr(app: Any, msgid: str, **kwargs: Any) -> str:
    """A message as the app shows it (same locale as the pages), for comparing with page text."""
    from flask_babel import gettext

    with app.test_request_context():
        return gettext(msgid, **kwargs)
