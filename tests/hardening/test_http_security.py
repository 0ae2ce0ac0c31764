"""Security headers, cookie flags, the idle session timeout and API token expiry."""

from __future__ import annotations

import datetime as dt
import importlib
import re
import time

import jwt

from tests.conftest import TEST_PASSWORD, login
from tests.hardening.conftest import settings

SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)


def _csp(resp) -> dict[str, str]:  # noqa: ANN001
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
            for part in (p.strip() for p in resp.headers["Content-Security-Policy"].split(";"))}


def test_pages_carry_the_security_headers(as_user):
    client = as_user("clerk1")
    for url in ("/login/", "/customers/list/", "/api/v1/customers/", "/static/crm/crm.css"):
        resp = client.get(url)
        assert resp.headers["X-Frame-Options"] == "DENY", url
        assert resp.headers["X-Content-Type-Options"] == "nosniff", url
        assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", url
        csp = _csp(resp)
        assert csp["default-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
        assert csp["font-src"] == "'self'" and csp["img-src"] == "'self' data:"
        assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
        assert "'unsafe-inline'" not in csp["style-src"]


def test_every_script_on_a_page_is_same_origin_or_carries_this_responses_nonce(as_user):
    client = as_user("admin2")
    nonces = set()
    for url in ("/login/", "/customers/list/", "/customers/add", "/users/list/"):
        resp = client.get(url)
        nonce = re.search(r"'nonce-([^']+)'", _csp(resp)["script-src"]).group(1)
        nonces.add(nonce)
        for attrs in SCRIPT.findall(resp.get_data(as_text=True)):
            if 'type="application/json"' in attrs:
                continue  # data, never executed
            src = re.search(r'src="([^"]+)"', attrs)
            if src:
                assert src.group(1).startswith("/"), (url, attrs)
            else:
                assert f'nonce="{nonce}"' in attrs, (url, attrs)
    assert len(nonces) == 4  # a fresh nonce per response


def test_session_cookie_is_httponly_and_samesite_lax(client):
    client.get("/logout/")
    resp = client.post("/login/", data={"username": "clerk1", "password": TEST_PASSWORD})
    cookie = next(v for v in resp.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in development


def test_crm_tls_makes_cookies_secure_and_sends_hsts(app, client, monkeypatch):
    import config

    monkeypatch.setenv("CRM_TLS", "1")
    tls = importlib.reload(config).Config
    assert tls.SESSION_COOKIE_SECURE and tls.REMEMBER_COOKIE_SECURE and tls.CRM_TLS
    monkeypatch.delenv("CRM_TLS")
    assert not importlib.reload(config).Config.SESSION_COOKIE_SECURE
    with settings(app, SESSION_COOKIE_SECURE=True, CRM_TLS=True):
        client.get("/logout/")
        resp = client.post("/login/", data={"username": "clerk1", "password": TEST_PASSWORD})
        cookie = next(v for v in resp.headers.getlist("Set-Cookie") if v.startswith("session="))
        assert "Secure" in cookie
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


def test_defaults_are_30_minute_sessions_and_15_minute_tokens(app):
    assert app.config["PERMANENT_SESSION_LIFETIME"] == dt.timedelta(minutes=30)
    assert app.config["JWT_ACCESS_TOKEN_EXPIRES"] == dt.timedelta(minutes=15)


def test_an_idle_session_expires_but_activity_keeps_it_alive(app, client):
    with settings(app, PERMANENT_SESSION_LIFETIME=dt.timedelta(seconds=2)):
        login(client, "clerk1")
        for _ in range(3):  # 3.6 s in total, more than the lifetime: each request renews it
            time.sleep(1.2)
            assert client.get("/customers/list/").status_code == 200
        time.sleep(3.5)
        resp = client.get("/customers/list/")
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_api_access_token_lives_15_minutes_and_is_refused_after_expiry(app, client, api_token):
    resp = client.post("/api/v1/security/login", json={
        "username": "clerk1", "password": TEST_PASSWORD, "provider": "db", "refresh": True})
    claims = jwt.decode(resp.get_json()["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 15 * 60
    with settings(app, JWT_ACCESS_TOKEN_EXPIRES=dt.timedelta(seconds=1)):
        headers = api_token("clerk1")
    assert client.get("/api/v1/customers/", headers=headers).status_code == 200
    time.sleep(2.1)
    resp = client.get("/api/v1/customers/", headers=headers)
    assert resp.status_code == 401


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one():
    from flask import Flask, request

    from app.security import headers

    for hops, expected in ((0, "127.0.0.1"), (1, "203.0.113.7")):
        tiny = Flask("tiny")
        tiny.config["CRM_PROXY_HOPS"] = hops
        headers.install(tiny)
        tiny.add_url_rule("/ip", "ip", lambda: request.remote_addr)
        resp = tiny.test_client().get("/ip", headers={"X-Forwarded-For": "203.0.113.7"})
        assert resp.get_data(as_text=True) == expected
        assert resp.headers["X-Frame-Options"] == "DENY"
