"""Nightly: refresh the stored priority score of every open lead (its recency part fades with time)."""

from __future__ import annotations

import datetime as dt

from app.services import leads


def run(now: dt.datetime) -> dict[str, int]:
    return {"rescored": leads.rescore_all(now)}
