"""Error pages and JSON errors, registered once: never a bare 500 with a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, flash, g, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, ProgrammingError

from app.extensions import appbuilder, db
from app.services.errors import CrmError

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _page(message: object, status: int):  # noqa: ANN202
    return render_template("crm/error.html", message=message, status=status,
                           base_template=appbuilder.base_template, appbuilder=appbuilder), status


# Primary keys are 32-bit integers (PostgreSQL `integer`): a larger id cannot exist, and sending
# one to the database is an overflow error (a 500), not "not found".
MAX_ID = 2**31 - 1


def _bad_url_arguments() -> int | None:
    """404 for an id that cannot exist, 400 for a non-numeric page argument of a FAB list."""
    pk = (request.view_args or {}).get("pk")
    if pk is not None:
        text = str(pk)
        if not text.isdigit() or not 0 < int(text) <= MAX_ID:
            return 404
    for key, value in request.args.items():
        # FAB's list pages call int() on these without a guard, and a negative one becomes a
        # negative OFFSET/LIMIT, which PostgreSQL refuses.
        if key.startswith(("page_", "psize_")) and not value.isdigit():
            return 400
    return None


def is_bad_value(exc: BaseException | None) -> bool:
    """The database refused a value sent by the client, not our SQL: a value it cannot read as
    the column's type (DataError), or a type mismatch such as `?_flt_0_active=maybe` on a boolean
    column, which FAB passes through as text (PostgreSQL: undefined_function, 42883)."""
    if isinstance(exc, DataError):
        return True
    return isinstance(exc, ProgrammingError) and getattr(exc.orig, "sqlstate", None) == "42883"


def register(app: Flask) -> None:
    @app.before_request
    def reject_impossible_arguments():  # noqa: ANN202
        status = _bad_url_arguments()
        if status == 404:
            return not_found(None)
        if status is not None:
            message = _("Bad request: a page number or size is not a whole number.")
            return (jsonify(message=message), status) if _wants_json() else _page(message, status)
        return None

    @app.errorhandler(CrmError)
    def crm_error(exc: CrmError):  # noqa: ANN202
        db.session.rollback()
        if _wants_json():
            return jsonify(message=exc.normalized_messages()), exc.status
        return _page(str(exc.message), exc.status)

    @app.errorhandler(DataError)
    @app.errorhandler(ProgrammingError)
    def bad_value(exc: Exception):  # noqa: ANN202
        db.session.rollback()
        if not is_bad_value(exc):
            return internal(exc)
        log.warning("database refused a value on %s %s: %s", request.method, request.path, exc)
        message = _("Bad request: a value has the wrong type for its field.")
        if _wants_json():
            return jsonify(message=message), 400
        return _page(message, 400)

    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError):  # noqa: ANN202
        # An expired or missing form token (a page left open past the session, a second tab): say
        # so and send the user back to the page, instead of a bare "400 Bad Request".
        message = _("The form expired or was sent from elsewhere. Reload the page and try again.")
        # CSRFProtect refuses before FAB's own before_request has set g.user, which the page's
        # menu needs.
        if not hasattr(g, "user"):
            g.user = current_user
        if _wants_json() or request.headers.get("X-CSRFToken") is not None:
            return jsonify(message=message), 400
        referrer = request.referrer or ""
        if referrer.startswith(request.host_url):
            flash(message, "danger")
            return redirect(referrer)
        return _page(message, 400)

    @app.errorhandler(404)
    def not_found(exc):  # noqa: ANN001, ANN202
        if _wants_json():
            return jsonify(message=_("Not found")), 404
        return _page(None, 404)

    @app.errorhandler(500)
    def internal(exc):  # noqa: ANN001, ANN202
        db.session.rollback()
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
        if _wants_json():
            return jsonify(message=_("Internal error")), 500
        return _page(None, 500)
