"""Campaign attribution: responses and conversions within each campaign's window (set-based)."""

from __future__ import annotations

import datetime as dt

from app.services import campaign_results


def run(now: dt.datetime) -> dict[str, int]:
    return campaign_results.attribute(now)
