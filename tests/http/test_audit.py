"""Sign-ins leave audit entries; the chain stays verifiable after real requests."""

from __future__ import annotations

from app.services import audit
from tests.conftest import TEST_PASSWORD
from tests.http.conftest import audit_rows, page


def test_page_login_and_failed_login_are_audited(app, client):
    resp = client.post("/login/", data={"username": "clerk1", "password": "wrong-password"})
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]  # back to the form
    resp = client.post("/login/", data={"username": "nobody-such", "password": "x"})
    resp = client.post("/login/", data={"username": "clerk1", "password": TEST_PASSWORD})
    assert resp.status_code == 302
    entries = [(a.action, a.actor_name) for a in audit_rows(app) if a.action in ("login", "login_failed")]
    assert entries == [("login_failed", "clerk1"), ("login_failed", "nobody-such"), ("login", "clerk1")]
    # The password is never written down.
    assert all("wrong-password" not in a.changes for a in audit_rows(app))


def test_api_login_and_failed_login_are_audited(app, client):
    bad = client.post("/api/v1/security/login", json={"username": "manager", "password": "nope",
                                                      "provider": "db", "refresh": True})
    assert bad.status_code == 401
    good = client.post("/api/v1/security/login", json={"username": "manager", "password": TEST_PASSWORD,
                                                       "provider": "db", "refresh": True})
    assert good.status_code == 200
    assert [(a.action, a.actor_name) for a in audit_rows(app)] == [("login_failed", "manager"), ("login", "manager")]


def test_manager_reads_the_audit_log_page(app, browser, make):
    c = make.customer("clerk1")
    manager = browser("manager")
    resp = manager.get("/audit-log/list/")
    assert resp.status_code == 200
    html = page(resp)
    assert "clerk1" in html and "manager" in html
    entry = [a for a in audit_rows(app, "create") if a.entity == "customer"][0]
    assert entry.entity_id == str(c.id)
    assert manager.get(f"/audit-log/show/{entry.id}").status_code == 200


def test_chain_is_intact_after_a_busy_session(app, browser, api_token, client, make):
    c = make.customer("clerk1")
    browser("clerk1").post(f"/customer360/{c.id}/reveal")
    client.put(f"/api/v1/customers/{c.id}", json={"city": "上海"}, headers=api_token("manager"))
    client.post("/login/", data={"username": "sales1", "password": "bad"})
    with app.app_context():
        result = audit.verify()
        assert result.ok and result.checked >= 6
