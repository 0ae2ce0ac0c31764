"""Append-only audit log with a SHA-256 hash chain (`crm audit verify` checks it)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.base import utcnow
from app.models.hardening import AuditCheckpoint
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
    _advance_checkpoint(entry)
    return entry


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify(batch: int = 5000, checkpoint: bool = False) -> VerifyResult:
    """Walk the chain in id order; report the first entry whose hash or link does not match.

    Rows are read as plain tuples in batches: constant memory, and the caller's session is untouched.
    A chain alone cannot show that its newest entries were deleted (what is left is still a valid
    chain), nor that someone recomputed every hash: with `checkpoint=True` (what `crm audit verify`
    uses) the end of the chain must also match the HMAC-signed checkpoint (`verify_checkpoint`).
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
            if checkpoint:
                return verify_checkpoint(last_id, prev, checked)
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


# ---------------------------------------------------------------- signed checkpoint (issue 7)
# The newest entry's id and hash and the number of entries, HMAC-signed with a key derived from
# CRM_FIELD_KEY (never stored in the database), in the one-row table `audit_checkpoint`, updated by
# `record` in the same transaction as the entry. Someone who can edit the database but does not hold
# the key can delete the newest entries, or rewrite the whole chain with fresh hashes, but cannot
# produce a matching checkpoint. (A table rather than a file: several web workers and the scheduler
# write audit entries, and only the database's transaction keeps entry and checkpoint in step.)

def _checkpoint_keys() -> list[bytes]:
    from app.services.crypto import cipher

    return cipher().derived_keys(b"crm-audit-checkpoint")


def _sign(last_id: int, last_hash: str, entries: int, key: bytes) -> str:
    return hmac.new(key, f"{last_id}|{last_hash}|{entries}".encode(), hashlib.sha256).hexdigest()


def _advance_checkpoint(entry: AuditLog) -> None:
    session = db.session
    cp = session.get(AuditCheckpoint, 1)
    if cp is None:
        entries = session.execute(select(func.count()).select_from(AuditLog)).scalar() or 0
        cp = AuditCheckpoint(id=1)
        session.add(cp)
    else:
        entries = cp.entries + 1
    cp.last_id, cp.last_hash, cp.entries, cp.updated_at = entry.id, entry.hash, entries, utcnow()
    cp.signature = _sign(entry.id, entry.hash, entries, _checkpoint_keys()[0])
    session.flush()


def resign_checkpoint(key: bytes) -> None:
    """Sign the current checkpoint with `key` (a key rotation calls this with the new key's derivation)."""
    cp = db.session.get(AuditCheckpoint, 1)
    if cp is not None:
        cp.signature = _sign(cp.last_id, cp.last_hash, cp.entries, key)
        db.session.flush()


def verify_checkpoint(last_id: int, last_hash: str, checked: int) -> VerifyResult:
    """Compare the end of a verified chain (its last id and hash, and length) with the signed checkpoint."""
    cp = db.session.execute(select(AuditCheckpoint).where(AuditCheckpoint.id == 1)).scalar()
    if cp is None:
        if checked == 0:
            return VerifyResult(ok=True, checked=0)
        return VerifyResult(False, checked, None, "the signed checkpoint is missing (deleted?); the log's end "
                            "cannot be confirmed")
    if not any(hmac.compare_digest(cp.signature, _sign(cp.last_id, cp.last_hash, cp.entries, key))
               for key in _checkpoint_keys()):
        return VerifyResult(False, checked, cp.last_id, "the checkpoint's signature is invalid (checkpoint "
                            "edited, or CRM_FIELD_KEY is not the key that signed it)")
    if cp.last_id > last_id:
        return VerifyResult(False, checked, cp.last_id, f"log truncated: the signed checkpoint names entry "
                            f"id={cp.last_id} but the log ends at id={last_id or 'none'} (newest entries deleted)")
    if cp.last_id < last_id:
        first_extra = db.session.execute(select(func.min(AuditLog.id)).where(AuditLog.id > cp.last_id)).scalar()
        return VerifyResult(False, checked, first_extra, f"entries after the signed checkpoint (id={cp.last_id}) "
                            "were not written by the application")
    if cp.last_hash != last_hash or cp.entries != checked:
        return VerifyResult(False, checked, cp.last_id, "the chain differs from the signed checkpoint (entries "
                            "rewritten, or entries deleted and the chain recomputed)")
    return VerifyResult(ok=True, checked=checked)
