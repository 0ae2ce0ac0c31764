"""Stored UTC timestamps are shown in the operator's time zone."""

import datetime as dt

from app.timefmt import localtime


def test_utc_is_shown_in_shanghai_time(ctx):
    assert localtime(dt.datetime(2026, 11, 26, 16, 30)) == "2026-11-27 00:30"


def test_configured_zone_and_empty_values(ctx, app):
    app.config["CRM_TIMEZONE"] = "Europe/London"
    try:
        assert localtime(dt.datetime(2026, 7, 1, 12, 0)) == "2026-07-01 13:00"
    finally:
        app.config["CRM_TIMEZONE"] = "Asia/Shanghai"
    assert localtime(None) == ""
