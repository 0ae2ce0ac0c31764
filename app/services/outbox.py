"""Outgoing customer messages (SMS, email) through one outbox. OWNED BY: messaging area (placeholder).

`enqueue` joins the caller's transaction (it never commits), so a message exists exactly when the
business change that caused it does. A job sends queued messages with retries.
"""

from __future__ import annotations

from typing import Any


def enqueue(*, customer_id: int | None, template_code: str, context: dict[str, Any],
            purpose: str = "service", channel: str | None = None, recipient: str | None = None,
            source: str | None = None, source_id: int | None = None) -> list[Any]:
    """Queue the message(s) rendered from `template_code` for a customer; returns the queued rows.

    purpose: "service" (transactional: ticket acknowledgement, transfer, resolution) or "marketing"
    (care and campaigns: skipped for customers who opted out). channel None = the customer's
    preferred/available channels. Placeholder: queues nothing until the messaging area lands.
    """
    return []
