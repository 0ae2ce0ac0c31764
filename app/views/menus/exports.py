"""Views and APIs of the exports (issue 6.6) area, registered with FAB."""

from __future__ import annotations

from typing import Any


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
