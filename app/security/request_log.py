"""Structured request logs (issue 7.8): one request id per request, on every log line it causes.

- The id is the caller's `X-Request-ID` when it is a sane token (a proxy such as nginx can set it,
  so one id follows the request through every tier), else a new random one; the response carries
  it back in `X-Request-ID`.
- Every log record gets a `request_id` attribute (a log-record factory, so handlers added later —
  gunicorn's, a test's — see it too); "-" outside a request.
- After each request one access line: method, path, status, duration in ms, user id.
- `CRM_LOG_FORMAT=json` turns every line into one JSON object (for a log shipper); the default is the
  plain `time level logger [request id]: message` line, with `key=value` pairs in the access line.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-ID"
# A caller's id is echoed into logs and a response header: accept only a short plain token.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("crm.access")


def current_request_id() -> str:
    if has_request_context():
        return g.get("request_id") or "-"
    return "-"


def _install_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_crm_request_id", False):
        return  # already installed (a second app in the same process)

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id()
        return record

    factory._crm_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class RequestIdFilter(logging.Filter):
    """For handlers configured outside the app: makes sure a record has `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request id, message, and the access fields."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        out.update(getattr(record, "http", {}))
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def _user_id() -> int | None:
    user = g.get("user")
    if user is None:
        from flask_login import current_user

        user = current_user
    try:
        return user.id if user is not None and user.is_authenticated else None
    except AttributeError:
        return None


def _begin() -> None:
    incoming = request.headers.get(HEADER, "")
    g.request_id = incoming if _VALID.match(incoming) else uuid.uuid4().hex
    g._crm_request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers[HEADER] = current_request_id()
    started = g.get("_crm_request_started")
    duration = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    fields = {"method": request.method, "path": request.path, "status": response.status_code,
              "duration_ms": duration, "user_id": _user_id()}
    access_log.info(" ".join(f"{k}={v}" for k, v in fields.items()), extra={"http": fields})
    return response


def install(app: Flask) -> None:
    """Request ids and access lines for this app (called once from `create_app`)."""
    _install_record_factory()
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)  # first: every later log line has it
    app.after_request(_finish)
    if (app.config.get("CRM_LOG_FORMAT") or os.environ.get("CRM_LOG_FORMAT")) == "json":
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
