"""Append-only audit log with a SHA-256 hash chain (`crm audit verify` checks it)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.base import utcnow
from app.services.actor import Actor

GENESIS = "0" * 64
# Any constant works: it only has to be the same for every writer of the audit log.
_ADVISORY_LOCK_KEY = 7_412_003


def _digest(entry: AuditLog) -> str:
    payload = "|".join(
        [
            entry.prev_hash,
            entry.created_at.isoformat(timespec="microseconds"),
            str(entry.actor_id or ""),
            entry.actor_name or "",
            entry.action,
            entry.entity or "",
            entry.entity_id or "",
            entry.changes or "",
            entry.ip or "",
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(
    actor: Actor | None,
    action: str,
    entity: str | None = None,
    entity_id: Any = None,
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    """Add an entry to the current transaction; the caller's commit makes it durable.

    Writers are serialised (advisory lock on PostgreSQL; SQLite serialises writers itself) so two
    transactions never chain onto the same predecessor.
    """
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    session.flush()
    prev = session.execute(select(AuditLog.hash).order_by(AuditLog.id.desc()).limit(1)).scalar()
    entry = AuditLog(
        created_at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else None,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        changes=json.dumps(changes, ensure_ascii=False, sort_keys=True, default=str) if changes else None,
        ip=actor.ip if actor else None,
        prev_hash=prev or GENESIS,
    )
    entry.hash = _digest(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify(batch: int = 5000) -> VerifyResult:
    """Walk the chain in id order; report the first entry whose hash or link does not match.

    Rows are read as plain tuples in batches: constant memory, and the caller's session is untouched.
    """
    cols = [getattr(AuditLog, c) for c in
            ("id", "prev_hash", "created_at", "actor_id", "actor_name", "action", "entity", "entity_id",
             "changes", "ip", "hash")]
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = db.session.execute(select(*cols).where(AuditLog.id > last_id).order_by(AuditLog.id).limit(batch)).all()
        if not rows:
            return VerifyResult(ok=True, checked=checked)
        for row in rows:
            entry = AuditLog(**{k: v for k, v in row._mapping.items() if k not in ("id", "hash")})
            if row.prev_hash != prev:
                reason = "link to previous entry is broken (entry deleted or reordered)"
                return VerifyResult(False, checked, row.id, reason)
            if _digest(entry) != row.hash:
                return VerifyResult(False, checked, row.id, "content does not match its hash (entry edited)")
            prev = row.hash
            checked += 1
            last_id = row.id
