"""Timestamps are stored as naive UTC; people read them in the operator's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TZ = "Asia/Shanghai"


def local_zone() -> ZoneInfo:
    name = current_app.config.get("CRM_TIMEZONE", DEFAULT_TZ) if has_app_context() else DEFAULT_TZ
    return ZoneInfo(name)


def to_local(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(local_zone())


def business_today() -> dt.date:
    """Today in the operator's time zone: from 16:00 UTC it is already tomorrow in Shanghai."""
    return dt.datetime.now(local_zone()).date()


def localtime(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Jinja filter and list formatter: `{{ ts|localtime }}`."""
    local = to_local(value)
    return local.strftime(fmt) if local else ""
