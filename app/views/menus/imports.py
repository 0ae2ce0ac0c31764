"""Views and APIs of the imports (issue 8.1) area, registered with FAB."""

from __future__ import annotations

from typing import Any


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
