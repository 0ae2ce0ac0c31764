"""Issue 7.2: every resource × role × action, through the pages and the REST API, against one table.

The expectations are `tests/hardening/authz_table.py`; the resources come from
`app/security/roles.RESOURCES`, so a new resource fails here until its row is written.
Allowed means the request reaches the view (200 for a page or an export, 400 for a probe write with an unknown
field, 404 for a delete of an id that does not exist); denied means 403. Row rules: a user who may
read the resource but not the fixture record gets 404 (never 403 with data), and lists leave it out.

One set of fixture records and one signed-in client per demo user serve the whole module (the
per-test table cleaning is replaced by one cleaning at the end), so the matrix runs in seconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import url_for
from sqlalchemy import func, select, text, update
from werkzeug.routing import BuildError

from app.extensions import db
from app.security.roles import RESOURCES
from tests.conftest import TEST_PASSWORD, actor_for, business_tables
from tests.hardening.authz_table import PEERS, ROLE_USERS, TABLE, allowed

MISSING_ID = 999_999_999
PROBE = {"__authz_probe__": 1}  # an unknown field: an allowed write stops at 400 and changes nothing
USERS = {**{u: r for r, u in ROLE_USERS.items()}, **PEERS}
UI_PERMS = {"l": "can_list", "s": "can_show", "a": "can_add", "e": "can_edit", "d": "can_delete", "x": "can_export"}
API_PERMS = {"l": "can_get", "s": "can_get", "a": "can_post", "e": "can_put", "d": "can_delete"}


@pytest.fixture(autouse=True)
def _clean_tables() -> Iterator[None]:
    """Overrides the suite's per-test cleaning: the module's fixture records are read-only here."""
    yield


def _views(app: Any) -> dict[str, Any]:
    """Registered views by the permission name RESOURCES uses (the class name unless overridden)."""
    views: dict[str, Any] = {}
    for view in app.appbuilder.baseviews:
        views.setdefault(view.class_permission_name, view)
    views.update({type(v).__name__: v for v in app.appbuilder.baseviews})  # the named class wins
    return views


@pytest.fixture(scope="module")
def world(app: Any) -> Iterator[dict[str, Any]]:
    """Seeded records owned by sales1, one ticket in agent1's department, and an id per resource."""
    from app.models.care import CareRule, CareTask
    from app.models.contact_log import ContactLog
    from app.models.customer import Customer
    from app.models.department import Department
    from app.models.kb import KbCategory
    from app.models.lead import Lead
    from app.models.opportunity import Opportunity
    from app.models.order import SalesOrder
    from app.models.survey import Survey
    from app.models.ticket import Ticket
    from app.services import kb, seed

    with app.app_context():
        seed.run(30, months=2, random_seed=7)
        sales1 = actor_for("sales1").id
        for model in (Customer, Lead, Opportunity, ContactLog, SalesOrder):
            db.session.execute(update(model).values(owner_id=sales1))
        survey = db.session.execute(select(Survey).where(Survey.subject_type == "ticket")
                                    .order_by(Survey.id).limit(1)).scalar_one()
        cs = db.session.execute(select(Department.id).where(Department.code == "customer-service")).scalar_one()
        db.session.execute(update(Ticket).where(Ticket.id == survey.subject_id)
                           .values(department_id=cs, assignee_id=None))
        rule = db.session.execute(select(CareRule).order_by(CareRule.id).limit(1)).scalar_one()
        customer_id = db.session.execute(select(func.min(Customer.id))).scalar_one()
        db.session.add(CareTask(rule_id=rule.id, customer_id=customer_id, occurrence_key="authz",
                                due_date=dt.date(2026, 1, 5), assignee_id=sales1, status="open"))
        db.session.commit()
        category = db.session.execute(select(KbCategory.id).order_by(KbCategory.id).limit(1)).scalar_one()
        kb.create({"title": "Roaming set-up", "body": "Dial *100# to enable roaming.", "category_id": category,
                   "status": "published"}, actor_for("manager"))

        views = _views(app)
        ids: dict[str, int] = {}
        chosen = {"tickets": survey.subject_id, "surveys": survey.id}
        for name, res in RESOURCES.items():
            view = views.get(res.api or "") or views.get(res.view or "")
            model = getattr(getattr(view, "datamodel", None), "obj", None)
            if name in chosen:
                ids[name] = chosen[name]
            elif model is not None:  # the newest: lists show newest first
                ids[name] = db.session.execute(select(func.max(model.id))).scalar()
        pages = {}
        with app.test_request_context():
            for name, res in RESOURCES.items():
                view = views.get(res.view or "")
                if view is not None and getattr(view, "datamodel", None) is None:
                    with contextlib.suppress(BuildError):  # a page opened for one record: no standalone URL
                        pages[name] = url_for(f"{type(view).__name__}.{view.default_view}")
    yield {"ids": ids, "pages": pages, "views": views}
    with app.app_context():
        db.session.rollback()
        for table in business_tables():
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - names from the metadata
        db.session.commit()


@pytest.fixture(scope="module")
def sessions(app: Any) -> dict[str, tuple[Any, dict[str, str]]]:
    """A signed-in page client and API headers per demo user, logged in once for the module."""
    out = {}
    for username in USERS:
        client = app.test_client()
        resp = client.post("/login/", data={"username": username, "password": TEST_PASSWORD})
        assert resp.status_code == 302, f"login as {username} failed"
        resp = client.post("/api/v1/security/login", json={
            "username": username, "password": TEST_PASSWORD, "provider": "db", "refresh": False})
        assert resp.status_code == 200, resp.get_json()
        out[username] = (client, {"Authorization": f"Bearer {resp.get_json()['access_token']}"})
    return out


def test_every_resource_has_a_row() -> None:
    missing = sorted(set(RESOURCES) - set(TABLE))
    stale = sorted(set(TABLE) - set(RESOURCES))
    assert not missing, f"add these resources to tests/hardening/authz_table.py: {missing}"
    assert not stale, f"these rows name no resource in roles.RESOURCES: {stale}"


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_table_offers_what_the_app_offers(app: Any, world: dict[str, Any], resource: str) -> None:
    """The table's action letters match what each page and API really offers (no silent extras)."""
    assert resource in TABLE, f"add {resource!r} to tests/hardening/authz_table.py"
    row, res, views = TABLE[resource], RESOURCES[resource], _views(app)
    if res.view:
        view = views[res.view]
        if getattr(view, "datamodel", None) is None:
            assert row.ui == ("p" if resource in world["pages"] else ""), f"{res.view} is a page: ui='p'"
        else:
            offered = {k for k, p in UI_PERMS.items() if p in (view.base_permissions or [])}
            assert offered == set(row.ui), f"{res.view} offers {sorted(offered)}"
    else:
        assert row.ui == "", f"{resource} has no page: ui=''"
    if res.api:
        api = views[res.api]
        offered = {k for k, p in API_PERMS.items() if p in (api.base_permissions or [])}
        assert offered == set(row.api), f"{res.api} offers {sorted(offered)}"
    else:
        assert row.api == ""


def _ui_checks(row: Any, res: Any, world: dict[str, Any], resource: str) -> list[tuple[str, str, str, Any, int]]:
    """(action, method, url, body, status when allowed) for each page action the resource offers."""
    if row.ui == "p":
        return [("p", "GET", world["pages"][resource], None, 200)]
    route = world["views"][res.view].route_base if res.view else None
    pk = world["ids"].get(resource)
    checks = {
        "l": ("GET", f"{route}/list/", 200),
        "s": ("GET", f"{route}/show/{pk}", 200),
        "a": ("GET", f"{route}/add", 200),
        "e": ("GET", f"{route}/edit/{pk}", 200),
        "d": ("POST", f"{route}/delete/{MISSING_ID}", 404),
        "x": ("GET", f"{route}/export/csv/", 200),
    }
    return [(a, *checks[a][:2], None, checks[a][2]) for a in row.ui if pk is not None or a not in "se"]


def _api_checks(row: Any, res: Any, world: dict[str, Any], resource: str) -> list[tuple[str, str, str, Any, int]]:
    if not row.api:
        return []
    base = world["views"][res.api].route_base
    pk = world["ids"].get(resource)
    checks = {
        "l": ("GET", f"{base}/?q=(page_size:100)", None, 200),
        "s": ("GET", f"{base}/{pk}", None, 200),
        "a": ("POST", f"{base}/", PROBE, 400),
        "e": ("PUT", f"{base}/{pk}", PROBE, 400),
        "d": ("DELETE", f"{base}/{MISSING_ID}", None, 404),
    }
    return [(a, *checks[a]) for a in row.api if pk is not None or a not in "se"]


@pytest.mark.parametrize("username", list(USERS))
@pytest.mark.parametrize("resource", list(RESOURCES))
def test_matrix(app: Any, world: dict[str, Any], sessions: dict[str, Any], resource: str, username: str) -> None:
    assert resource in TABLE, f"add {resource!r} to tests/hardening/authz_table.py"
    row, res, role = TABLE[resource], RESOURCES[resource], USERS[username]
    client, headers = sessions[username]
    hidden = username in row.hidden
    wrong = []
    checks_by_kind = (("ui", _ui_checks(row, res, world, resource)), ("api", _api_checks(row, res, world, resource)))
    for kind, checks in checks_by_kind:
        for action, method, url, body, ok in checks:
            # A show page may redirect to the record's own page (customer → 360, ticket → desk): follow it.
            resp = client.open(url, method=method, json=body, headers=headers if kind == "api" else None,
                               follow_redirects=kind == "ui" and action == "s")
            resp.get_data()  # consume a streamed export, then close it: its request context ends here
            resp.close()
            if not allowed(resource, role, action):
                expected = 403
            elif hidden and action in "se":
                # The record is outside this user's rows: not found, never "forbidden" with data.
                expected = 404 if kind == "ui" or action == "s" else ok
            else:
                expected = ok
            if resp.status_code != expected:
                wrong.append(f"{kind} {action} {method} {url}: {resp.status_code}, expected {expected}")
            elif kind == "api" and action == "l" and expected == 200:
                listed = resp.get_json().get("ids", [])
                if hidden and world["ids"].get(resource) in listed:
                    wrong.append(f"api list {url} shows the hidden fixture record to {username}")
                if not hidden and world["ids"].get(resource) not in listed and row.hidden:
                    wrong.append(f"api list {url} misses the fixture record for {username}")
    assert not wrong, f"{resource} as {username} ({role}):\n" + "\n".join(wrong)
