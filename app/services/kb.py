"""Knowledge base (知识库) search and suggestions. OWNED BY: knowledge-base area (placeholder)."""

from __future__ import annotations

from typing import Any


def suggest(text: str, limit: int = 5) -> list[Any]:
    """Published articles most relevant to a ticket's text, best first. Placeholder: none yet."""
    return []
