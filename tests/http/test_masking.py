"""Personal data is masked everywhere; the audited reveal is the only way to a full value, also with CSRF on."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest

from tests.conftest import TEST_PASSWORD
from tests.http.conftest import audit_rows, form_of, page


@contextlib.contextmanager
def csrf_on(app) -> Iterator[None]:  # noqa: ANN001
    """Production's CSRF setting for a few requests (the suite runs with it off)."""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def csrf_of_reveal_button(html: str) -> str:
    match = re.search(r'id="crm-reveal"[^>]*data-csrf="([^"]*)"', html, re.S)
    assert match, "no reveal button"
    return match.group(1)


@pytest.mark.parametrize("username", ["admin2", "manager", "clerk1", "sales1", "agent1"])
def test_360_page_shows_masked_values_to_every_role(browser, make, username):
    c = make.customer("sales1")
    html = page(browser(username).get(f"/customer360/{c.id}"))
    assert c.mobile_masked in html and c.id_number_masked in html
    assert c.mobile not in html and c.id_number not in html


@pytest.mark.parametrize(("username", "offered"), [("manager", True), ("clerk1", True), ("sales1", False),
                                                   ("agent1", False)])
def test_reveal_button_only_for_roles_with_the_permission(browser, make, username, offered):
    c = make.customer("sales1")
    assert ('id="crm-reveal"' in page(browser(username).get(f"/customer360/{c.id}"))) is offered


def test_page_reveal_returns_full_values_and_is_audited(app, browser, make):
    c = make.customer("sales1")
    resp = browser("clerk1").post(f"/customer360/{c.id}/reveal")
    assert resp.status_code == 200
    assert resp.get_json()["result"] == {"id_number": c.id_number, "mobile": c.mobile}
    assert [(a.actor_name, a.entity_id) for a in audit_rows(app, "reveal")] == [("clerk1", str(c.id))]


@pytest.mark.parametrize("username", ["sales1", "agent1"])
def test_page_reveal_is_refused_without_the_permission(app, browser, make, username):
    c = make.customer("sales1")
    resp = browser(username).post(f"/customer360/{c.id}/reveal")
    assert resp.status_code == 403
    assert c.mobile not in page(resp)
    assert audit_rows(app, "reveal") == []


def test_page_reveal_of_an_unknown_customer_is_404(browser):
    assert browser("manager").post("/customer360/999999/reveal").status_code == 404


def test_reveal_with_csrf_on_needs_the_token_the_page_hands_out(app, browser, make):
    c = make.customer("sales1")
    clerk = browser("clerk1")
    with csrf_on(app):
        _reveal_with_csrf(app, clerk, c)


def _reveal_with_csrf(app, clerk, c) -> None:  # noqa: ANN001
    html = page(clerk.get(f"/customer360/{c.id}"))
    token = csrf_of_reveal_button(html)
    assert token, "the page must hand the reveal button a CSRF token"

    refused = clerk.post(f"/customer360/{c.id}/reveal", headers={"X-Requested-With": "XMLHttpRequest"})
    assert refused.status_code == 400  # a cross-site POST carries no token
    assert audit_rows(app, "reveal") == []

    # What customer360.js sends.
    resp = clerk.post(f"/customer360/{c.id}/reveal",
                      headers={"X-Requested-With": "XMLHttpRequest", "X-CSRFToken": token})
    assert resp.status_code == 200
    assert resp.get_json()["result"]["mobile"] == c.mobile
    assert len(audit_rows(app, "reveal")) == 1


def test_forms_and_api_still_work_with_csrf_on(app, client, make, api_token):
    token = api_token("clerk1")
    with csrf_on(app):
        _forms_with_csrf(client, make, token)


def _forms_with_csrf(client, make, token) -> None:  # noqa: ANN001
    # The login form carries its token.
    form = form_of(client.get("/login/"))
    assert form.values.get("csrf_token")
    resp = client.post("/login/", data={"username": "clerk1", "password": TEST_PASSWORD,
                                        "csrf_token": form.values["csrf_token"]})
    assert resp.status_code == 302
    # An add form too; without the token the same post is refused.
    add = form_of(client.get("/customers/add"))
    data = make.data()
    assert client.post("/customers/add", data=data).status_code == 400
    resp = client.post("/customers/add", data={**data, "csrf_token": add.values["csrf_token"]})
    assert resp.status_code == 302
    # JWT API calls are exempt: no cookie, no CSRF.
    resp = client.post("/api/v1/customers/", json=make.data(), headers=token)
    assert resp.status_code == 201


def test_history_and_audit_never_hold_full_values(app, browser, make, in_app):
    c = make.customer("clerk1")
    clerk = browser("clerk1")
    values = form_of(clerk.get(f"/customers/edit/{c.id}")).values
    values["mobile"] = "13987654321"
    assert clerk.post(f"/customers/edit/{c.id}", data=values).status_code == 302
    html = page(clerk.get(f"/customer360/{c.id}"))
    assert "139****4321" in html and "13987654321" not in html
    for entry in audit_rows(app):
        assert "13987654321" not in entry.changes and c.mobile not in entry.changes
        assert c.id_number not in entry.changes
