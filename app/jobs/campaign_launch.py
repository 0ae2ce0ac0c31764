"""Campaign launches: contact each launched campaign's target in batches, resuming where it stopped."""

from __future__ import annotations

import datetime as dt

from app.services import campaigns


def run(now: dt.datetime) -> dict[str, int]:
    return campaigns.process_launches(now)
