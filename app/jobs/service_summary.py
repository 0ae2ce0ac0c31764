"""Service statistics summary: add the closed days since the last run, or rebuild every day."""

from __future__ import annotations

import datetime as dt

from app.services import service_summary


def run(now: dt.datetime) -> dict:
    return service_summary.refresh(now)


def run_full(now: dt.datetime) -> dict:
    return service_summary.rebuild_all(now)
