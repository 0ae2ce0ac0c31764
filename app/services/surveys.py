"""Satisfaction surveys answered by customers without logging in. OWNED BY: SLA/survey area (placeholder)."""

from __future__ import annotations

from typing import Any


def issue(subject_type: str, subject_id: int, customer_id: int | None) -> Any | None:
    """Create a single-use survey for e.g. ("ticket", 42); returns it (with `.token` and `.url`) or None.

    Joins the caller's transaction. Placeholder: returns None until the survey area lands.
    """
    return None
