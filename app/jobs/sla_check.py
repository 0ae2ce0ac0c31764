"""SLA check every minute: mark warnings and breaches, escalate each breach exactly once."""

from __future__ import annotations

import datetime as dt

from app.services import sla


def run(now: dt.datetime) -> dict[str, int]:
    return sla.check(now).as_dict()
