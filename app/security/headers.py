"""HTTP hardening installed on the app (one call from `create_app`): security headers with a
per-request CSP nonce, the idle session timeout, and the 429 answer of a locked-out API sign-in.

Content-Security-Policy (every response):
- scripts: `'self'` plus this response's nonce. FAB 5's templates already mark each inline
  `<script>` with `nonce="{{ baselib.get_nonce() }}"`, which calls the `csp_nonce()` template
  global defined here; our own pages keep code in static files and data in
  `<script type="application/json">` blocks (never executed). No `'unsafe-inline'`, no `'unsafe-eval'`.
- styles: `'self'` for style sheets and `<style>` elements (nonce for any inline one). Documented
  exception: `style-src-attr 'unsafe-inline'`, i.e. `style="…"` attributes only. FAB's templates
  (login box, list pagination, hidden action forms, required-field stars), select2 and our pages set
  layout through style attributes; blocking them breaks the layout, and a style attribute cannot load
  scripts (any `url()` in it is still limited by img-src/font-src to this origin).
- fonts `'self'`; images `'self' data:` (Bootstrap/select2 inline SVG/PNG sprites and ECharts'
  "save as image" are data: URLs that never leave the page); connect `'self'`;
  `object-src 'none'`, `base-uri 'self'`, `form-action 'self'`, `frame-ancestors 'none'`.
Plus X-Frame-Options DENY, X-Content-Type-Options nosniff, Referrer-Policy
strict-origin-when-cross-origin, a restrictive Permissions-Policy, and HSTS when CRM_TLS is on.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, jsonify, request, session


def csp_nonce() -> str:
    """This request's nonce (one per response, unguessable)."""
    nonce = g.get("_crm_csp_nonce")
    if nonce is None:
        nonce = g._crm_csp_nonce = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _set_headers(response: Response) -> Response:
    h = response.headers
    h["Content-Security-Policy"] = content_security_policy(csp_nonce())
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if _tls():
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _tls() -> bool:
    from flask import current_app

    return bool(current_app.config.get("CRM_TLS"))


def _session_idle_timeout() -> None:
    # A permanent session is re-signed on every request, so PERMANENT_SESSION_LIFETIME is an idle
    # timeout: Flask refuses a cookie whose signature is older than that.
    if session and not session.permanent:
        session.permanent = True


def _locked_api_login(response: Response) -> Response:
    lock = g.get("crm_login_lock")
    if lock is None or not request.path.startswith("/api/"):
        return response
    locked = jsonify(message=lock.message())
    locked.status_code = 429
    locked.headers["Retry-After"] = str(lock.seconds_left())
    return locked


def install(app: Flask) -> None:
    hops = int(app.config.get("CRM_PROXY_HOPS") or 0)
    if hops > 0:
        # Behind nginx: the client's address (per-address lockout, audit) and scheme come from the
        # proxy's X-Forwarded-For / X-Forwarded-Proto. Only with a trusted proxy in front: otherwise a
        # client could pick its own address.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.before_request(_session_idle_timeout)
    # after_request functions run last-registered first: the 429 replaces the response, then
    # the headers go on whatever response leaves.
    app.after_request(_set_headers)
    app.after_request(_locked_api_login)
