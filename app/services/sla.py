"""Service-level clocks of tickets. OWNED BY: SLA area (placeholder until it lands).

The ticket service calls these hooks inside its own transaction; they never commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def start(ticket: Any, at: dt.datetime) -> None:
    """A ticket was created (or reopened): start its response and resolution clocks."""


def on_status_change(ticket: Any, old: str | None, new: str, at: dt.datetime) -> None:
    """Pause the clocks while waiting for the customer, resume after, stop on resolve/close."""


def on_response(ticket: Any, at: dt.datetime) -> None:
    """The first agent action that counts as a response to the customer."""
