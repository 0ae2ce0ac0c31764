"""Shared fixtures: one app per test session on SQLite (default) or PostgreSQL.

`CRM_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres` runs the suite on PostgreSQL:
a fresh database named `crm_test_<pid>` is created from that server and dropped at the end.
Between tests every business table is emptied; roles and the demo users stay.
"""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TEST_PASSWORD = "test-pass-2026"
DEMO_USERS = {
    "admin2": ("Admin", None),
    "manager": ("Manager", None),
    "sales1": ("Sales", "sales"),
    "sales2": ("Sales", "sales"),
    "agent1": ("Agent", "customer-service"),
    "agent2": ("Agent", "technical"),
    "clerk1": ("Clerk", None),
}
# Tables that keep their rows between tests: FAB's security tables (ab_*), the scheduler's job store,
# and reference data that `crm init` ships (departments, care rules, …). Every other table is a
# business table, emptied after each test. A new table is a business table unless added here.
KEEP_TABLES = {"acl_version", "alembic_version", "apscheduler_jobs", "department", "care_rule", "kb_category",
               "sla_policy", "message_template", "ticket_routing_rule", "sales_playbook_action"}


def business_tables() -> list[str]:
    """Every business table, children before parents (the order a DELETE must follow)."""
    from flask_appbuilder import Model

    import app.models  # noqa: F401 - every table registered on FAB's metadata

    return [t.name for t in reversed(Model.metadata.sorted_tables)
            if not t.name.startswith("ab_") and t.name not in KEEP_TABLES]


_TMP = Path(tempfile.mkdtemp(prefix="crm-test-"))
os.environ.setdefault("CRM_INSTANCE_DIR", str(_TMP / "instance"))
os.environ.setdefault("CRM_SECRET_KEY", "test-secret-key-that-is-long-enough-for-hs256")
os.environ.setdefault("CRM_FIELD_KEY", base64.b64encode(b"k" * 32).decode())
os.environ["CRM_SCHEDULER"] = "off"


def _postgres_url() -> tuple[str, str] | None:
    server = os.environ.get("CRM_TEST_DATABASE_URL")
    if not server:
        return None
    url = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"crm_test_{os.getpid()}"
    return url.render_as_string(hide_password=False), name


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    pg = _postgres_url()
    if pg is None:
        yield f"sqlite:///{_TMP / 'test.db'}"
        return
    server_url, name = pg
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from app.extensions import db

        with contextlib.suppress(RuntimeError):  # no app context left: nothing to dispose
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def app(database_url: str):  # noqa: ANN201
    os.environ["DATABASE_URL"] = database_url
    from app import create_app
    from app.services import setup

    application = create_app({
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CRM_FIELD_KEY": os.environ["CRM_FIELD_KEY"],
    })
    # Tests that hold an app context (`ctx`) while making requests share `g` across requests;
    # in production each request has its own. Forget the previous request's login state first.
    def _fresh_auth_state() -> None:
        from flask import g

        for key in [k for k in vars(g) if k.startswith("_jwt_extended")
                    or k in ("user", "_login_user", "_crm_permissions")]:
            g.pop(key, None)

    application.before_request_funcs.setdefault(None, []).insert(0, _fresh_auth_state)
    with application.app_context():
        setup.init()
        for username, (role, dept) in DEMO_USERS.items():
            if setup.appbuilder.sm.find_user(username=username) is None:
                setup.create_user(username, TEST_PASSWORD, role, department=dept)
        # Start from empty business tables (user creation above is audited), whichever test runs first.
        from app.extensions import db

        for table in business_tables():
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - names from the metadata
        db.session.commit()
    return application


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    from app.extensions import db

    with application.app_context():
        db.session.rollback()
        for table in business_tables():
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed table names
        db.session.commit()
    # Rows deleted by plain SQL start no new generation of the cached search forms: forget them,
    # as a restart would, so no test sees the previous test's plans in a filter drop-down.
    from app.views import page_cache

    page_cache.clear()


@pytest.fixture
def ctx(app):  # noqa: ANN001, ANN201
    """An app context for service-level tests (no HTTP)."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    return app.test_client()


def actor_for(username: str) -> Any:
    """The `Actor` a service sees for this user (roles and reveal permission included)."""
    from app.extensions import appbuilder
    from app.security.current import REVEAL_VIEW
    from app.services.actor import Actor

    user = appbuilder.sm.find_user(username=username)
    perms = frozenset(pv.permission.name for r in user.roles for pv in r.permissions
                      if pv.view_menu.name == REVEAL_VIEW)
    return Actor(id=user.id, username=user.username, roles=frozenset(r.name for r in user.roles),
                 department_id=user.department_id, permissions=perms)


@pytest.fixture
def actor(ctx):  # noqa: ANN001, ANN201
    return actor_for


def login(client: Any, username: str, password: str = TEST_PASSWORD) -> None:
    client.get("/logout/")
    resp = client.post("/login/", data={"username": username, "password": password})
    assert resp.status_code == 302, f"login as {username} failed"


@pytest.fixture
def as_user(client):  # noqa: ANN001, ANN201
    def _login(username: str) -> Any:
        login(client, username)
        return client

    return _login


@pytest.fixture
def api_token(client):  # noqa: ANN001, ANN201
    def _token(username: str, password: str = TEST_PASSWORD) -> dict[str, str]:
        resp = client.post("/api/v1/security/login", json={
            "username": username, "password": password, "provider": "db", "refresh": True,
        })
        assert resp.status_code == 200, resp.get_json()
        return {"Authorization": f"Bearer {resp.get_json()['access_token']}"}

    return _token


@contextlib.contextmanager
def recorded_statements(app: Any = None) -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs, whitespace collapsed (query-budget tests).

    Pass the app when no app context is open (tests that drive the test client)."""
    from sqlalchemy import event

    from app.extensions import db

    if app is None:
        engine = db.engine
    else:
        with app.app_context():
            engine = db.engine
    seen: list[str] = []

    def _note(conn, cursor, statement, *args):  # noqa: ANN001, ANN202
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", _note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _note)
