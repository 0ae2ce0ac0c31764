"""Issue 7.8: a request id per request, echoed in the response and on every log line of the request."""

from __future__ import annotations

import json
import logging
import re
import signal
from typing import Any

import pytest

from app.security.request_log import HEADER, JsonFormatter

log = logging.getLogger("tests.request_log")


def access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "crm.access"]


def test_an_incoming_request_id_round_trips_and_is_on_the_access_line(client: Any, caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="crm.access"):
        resp = client.get("/health", headers={HEADER: "edge-7f3a.42"})
    assert resp.headers[HEADER] == "edge-7f3a.42"
    (line,) = access_lines(caplog)
    assert line.request_id == "edge-7f3a.42"
    assert line.http == {"method": "GET", "path": "/health", "status": 200,
                         "duration_ms": line.http["duration_ms"], "user_id": None}
    assert line.http["duration_ms"] >= 0
    assert "status=200" in line.getMessage() and "path=/health" in line.getMessage()


def test_without_a_usable_id_the_app_makes_one_per_request(client: Any, caplog: Any) -> None:
    first = client.get("/health").headers[HEADER]
    second = client.get("/health").headers[HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second
    # A header that could forge log lines or bloat them is replaced, not echoed.
    for bad in ("a b", "x" * 200, "id;level=ERROR"):
        echoed = client.get("/health", headers={HEADER: bad}).headers[HEADER]
        assert echoed != bad and re.fullmatch(r"[0-9a-f]{32}", echoed)


def test_every_log_line_of_a_request_carries_its_id_and_the_user(as_user: Any, caplog: Any) -> None:
    client = as_user("sales1")
    caplog.clear()  # the sign-in's own lines carry its own id
    with caplog.at_level(logging.INFO):
        # A denied page: FAB logs a warning inside the request, then the access line follows.
        resp = client.get("/audit-log/list/", headers={HEADER: "req-1"})
    assert resp.status_code == 403
    inside = [r for r in caplog.records if r.name.startswith("flask_appbuilder")]
    assert inside and {r.request_id for r in inside} == {"req-1"}
    (line,) = access_lines(caplog)
    assert line.request_id == "req-1" and line.http["status"] == 403 and line.http["user_id"] is not None
    # Outside any request the id is "-".
    with caplog.at_level(logging.INFO):
        log.warning("no request")
    assert caplog.records[-1].request_id == "-"


def test_json_format_puts_the_request_fields_in_one_object(client: Any, caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="crm.access"):
        client.get("/health", headers={HEADER: "json-1"})
    (line,) = access_lines(caplog)
    out = json.loads(JsonFormatter().format(line))
    assert out["request_id"] == "json-1" and out["status"] == 200 and out["path"] == "/health"
    assert out["logger"] == "crm.access" and out["level"] == "INFO"


def test_scheduler_turns_sigterm_into_a_graceful_shutdown() -> None:
    from app.cli.jobs import _exit_on_sigterm

    with pytest.raises(SystemExit):
        _exit_on_sigterm(signal.SIGTERM, None)


def test_gunicorn_finishes_requests_in_flight_on_shutdown() -> None:
    import runpy
    from pathlib import Path

    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    assert conf["graceful_timeout"] >= 10 and conf["workers"] >= 1
