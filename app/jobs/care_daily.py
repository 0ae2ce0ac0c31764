"""Daily customer care run: create the day's care tasks (and any missed days'), exactly once."""

from __future__ import annotations

import datetime as dt

from app.services import care


def run(now: dt.datetime) -> dict[str, int]:
    return care.run_daily(now).as_dict()
