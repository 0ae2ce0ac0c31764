"""Repeated failed sign-ins lock the account (and the address), on the form and the API; audited."""

from __future__ import annotations

import datetime as dt

from app.extensions import db
from app.models.base import utcnow
from app.models.hardening import LoginAttempt
from tests.conftest import TEST_PASSWORD
from tests.hardening.conftest import audit_actions, settings


def form_login(client, username: str, password: str, ip: str = "127.0.0.1") -> bool:  # noqa: ANN001
    client.get("/logout/")
    resp = client.post("/login/", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})
    assert resp.status_code == 302
    return "/login" not in resp.headers["Location"]


def api_login(client, username: str, password: str, ip: str = "127.0.0.1"):  # noqa: ANN001, ANN201
    return client.post("/api/v1/security/login", environ_base={"REMOTE_ADDR": ip}, json={
        "username": username, "password": password, "provider": "db", "refresh": True})


def test_five_failures_lock_the_account_even_against_the_right_password(app, client):
    client.get("/lang/en")
    for _ in range(5):
        assert not form_login(client, "sales2", "wrong-password-1")
    assert not form_login(client, "sales2", TEST_PASSWORD)
    page = client.get("/login/").get_data(as_text=True)
    assert "Too many failed sign-ins for this account" in page

    locks = audit_actions(app, "lockout")
    assert len(locks) == 1 and locks[0].changes and '"scope": "account"' in locks[0].changes
    # The API is locked too, and says so with 429 and Retry-After.
    resp = api_login(client, "sales2", TEST_PASSWORD)
    assert resp.status_code == 429
    assert 0 < int(resp.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins" in resp.get_json()["message"]
    # Another account from the same address is not affected.
    assert form_login(client, "sales1", TEST_PASSWORD)


def test_api_failures_lock_the_account_for_the_form_too(client):
    for _ in range(4):
        assert api_login(client, "agent2", "nope-nope-nope").status_code == 401
    # The failure that trips the lock already answers 429.
    assert api_login(client, "agent2", "nope-nope-nope").status_code == 429
    assert api_login(client, "agent2", TEST_PASSWORD).status_code == 429
    assert not form_login(client, "agent2", TEST_PASSWORD)


def test_a_successful_sign_in_resets_the_account_count(client):
    for _ in range(4):
        assert not form_login(client, "clerk1", "wrong-password-1")
    assert form_login(client, "clerk1", TEST_PASSWORD)
    for _ in range(4):
        assert not form_login(client, "clerk1", "wrong-password-1")
    assert form_login(client, "clerk1", TEST_PASSWORD)


def test_the_lock_ends_after_its_duration(app, client):
    with app.app_context():
        old = utcnow() - dt.timedelta(minutes=31)
        for i in range(5):
            db.session.add(LoginAttempt(created_at=old + dt.timedelta(seconds=i), username="manager",
                                        ip="10.0.0.9", outcome="failure"))
        db.session.commit()
    assert form_login(client, "manager", TEST_PASSWORD)


def test_failures_from_one_address_lock_that_address_only(app, client):
    with settings(app, CRM_LOCKOUT_IP_ATTEMPTS=3):
        for name in ("nobody1", "nobody2", "nobody3"):
            assert not form_login(client, name, "whatever-123", ip="10.1.1.1")
        assert not form_login(client, "sales1", TEST_PASSWORD, ip="10.1.1.1")
        assert api_login(client, "sales1", TEST_PASSWORD, ip="10.1.1.1").status_code == 429
        assert form_login(client, "sales1", TEST_PASSWORD, ip="10.2.2.2")
    locks = audit_actions(app, "lockout")
    assert [lk.ip for lk in locks] == ["10.1.1.1"] and '"scope": "address"' in locks[0].changes
