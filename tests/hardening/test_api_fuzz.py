"""Issue 7.3: schemathesis against /api/v1/_openapi for every API resource, through the WSGI app.

Each resource's operations get a bounded number of generated requests (`MAX_EXAMPLES`, no deadline),
sent as an Admin (who may call everything, so requests reach the handlers rather than stop at 403).
Every response must be free of 5xx and match the response schema the spec documents. The database
holds a few seeded customers so GET/PUT/DELETE by id sometimes hit a real record.

Fuzzing writes (POST/PUT/DELETE with generated bodies) may change the shipped care rules, the one
reference table an API writes: they are copied before and put back afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import text

from app.extensions import db
from app.security.roles import RESOURCES
from tests.conftest import TEST_PASSWORD, business_tables

MAX_EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES", "15"))
API_RESOURCES = [name for name, res in RESOURCES.items() if res.api]
CHECKS = [not_a_server_error, response_schema_conformance]
RESTORED = ("care_rule",)


@pytest.fixture(scope="module")
def fuzz(app: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    from app.services import seed

    client = app.test_client()
    resp = client.post("/api/v1/security/login", json={
        "username": "admin2", "password": TEST_PASSWORD, "provider": "db", "refresh": False})
    headers = {"Authorization": f"Bearer {resp.get_json()['access_token']}"}
    with app.app_context():
        seed.run(5, months=1, random_seed=3)
        saved = {t: [dict(r._mapping) for r in db.session.execute(text(f"SELECT * FROM {t}"))]  # noqa: S608
                 for t in RESTORED}
    schema = schemathesis.openapi.from_wsgi("/api/v1/_openapi", app, headers=headers)
    yield schema, headers
    with app.app_context():
        db.session.rollback()
        for table in business_tables():  # first: they may point at the rows put back below
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - names from the metadata
        for table, rows in saved.items():
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608
            for row in rows:
                cols = ", ".join(row)
                db.session.execute(text(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + c for c in row)})"),  # noqa: S608
                                   row)
        db.session.commit()


@pytest.fixture(autouse=True)
def _clean_tables() -> Iterator[None]:
    """The module fixture cleans once at the end (the suite's per-test cleaning would drop the seed)."""
    yield


def _operations(schema: Any, resource: str) -> list[Any]:
    prefix = f"/api/v1/{resource}/"
    ops = [result.ok() for result in schema.get_all_operations()]
    return [op for op in ops if op.path == prefix[:-1] + "/" or op.path.startswith(prefix)]


@pytest.mark.parametrize("resource", API_RESOURCES)
def test_fuzzed_requests_never_fail_on_the_server_and_match_the_schema(fuzz: Any, resource: str) -> None:
    schema, headers = fuzz
    ops = _operations(schema, resource)
    assert ops, f"/api/v1/{resource}/ is missing from /api/v1/_openapi"
    for op in ops:

        @given(case=op.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS)

        run()
