"""Outbox sender: every minute, send the messages that are due (with retries and backoff)."""

from __future__ import annotations

import datetime as dt

from app.services import outbox


def run(now: dt.datetime) -> dict[str, int]:
    return outbox.send_due(now).as_dict()
