"""`GET /health` for load balancers: no sign-in, JSON, 503 when the database does not answer."""

from __future__ import annotations

from unittest import mock

from sqlalchemy.exc import OperationalError


def test_health_ok(client):
    resp = client.get("/health")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "database": "ok"}


def test_health_reports_an_unreachable_database(client):
    from app.extensions import db

    boom = OperationalError("SELECT 1", {}, Exception("connection refused"))
    with mock.patch.object(db.session, "execute", side_effect=boom):
        resp = client.get("/health")
    assert resp.status_code == 503
    assert resp.get_json()["status"] != "ok"
