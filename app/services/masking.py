"""One formatter for masking personal data, used by pages, API, exports and logs."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """`110105194912310021` → `110***********0021` (first 3 and last 4 kept)."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_mobile(value: str | None) -> str:
    """`13812345678` → `138****5678`."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str:
    """`张三丰` → `张**`: surname only, for analyst exports."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)


def is_masked(value: str | None) -> bool:
    """A value that came back from a masked display: it must never overwrite the stored one."""
    return isinstance(value, str) and "*" in value
