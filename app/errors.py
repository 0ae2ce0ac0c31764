"""Error pages and JSON errors, registered once: never a bare 500 with a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request

from app.extensions import appbuilder, db
from app.services.errors import CrmError

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _page(message: object, status: int):  # noqa: ANN202
    return render_template("crm/error.html", message=message, status=status,
                           base_template=appbuilder.base_template, appbuilder=appbuilder), status


def register(app: Flask) -> None:
    @app.errorhandler(CrmError)
    def crm_error(exc: CrmError):  # noqa: ANN202
        db.session.rollback()
        if _wants_json():
            return jsonify(message=exc.normalized_messages()), exc.status
        return _page(str(exc.message), exc.status)

    @app.errorhandler(404)
    def not_found(exc):  # noqa: ANN001, ANN202
        if _wants_json():
            return jsonify(message="Not found"), 404
        return _page(None, 404)

    @app.errorhandler(500)
    def internal(exc):  # noqa: ANN001, ANN202
        db.session.rollback()
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
        if _wants_json():
            return jsonify(message="Internal error"), 500
        return _page(None, 500)
