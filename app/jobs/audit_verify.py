"""Nightly check of the audit log's hash chain: a broken chain fails the run, visibly."""

from __future__ import annotations

import datetime as dt

from app.services import audit


class AuditChainBroken(RuntimeError):
    pass


def run(now: dt.datetime) -> dict[str, int]:
    result = audit.verify(checkpoint=True)
    if not result.ok:
        raise AuditChainBroken(f"entry {result.broken_id}: {result.reason}")
    return {"verified": result.checked}
