"""`crm audit verify` finds an edited, a deleted, a reordered entry and a truncated tail; a chain
recomputed by someone without the key, and a forged checkpoint, are caught by the signed checkpoint."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models.audit_log import AuditLog
from app.services import audit
from tests.factories import make_customer

COLS = "created_at, actor_id, actor_name, action, entity, entity_id, changes, ip"


@pytest.fixture
def chain(actor):  # noqa: ANN001, ANN201
    clerk = actor("clerk1")
    for _ in range(3):
        make_customer(clerk)
    audit.record(clerk, "export", "customer", None, {"rows": 3})
    audit.record(actor("manager"), "export", "customer", None, {"rows": 1})
    db.session.commit()
    ids = list(db.session.execute(select(AuditLog.id).order_by(AuditLog.id)).scalars())
    assert len(ids) == 5
    return ids


def verify_cli(app) -> tuple[int, str]:  # noqa: ANN001
    result = app.test_cli_runner().invoke(args=["crm", "audit", "verify"])
    return result.exit_code, result.output


def test_untouched_log_verifies(ctx, chain):
    code, out = verify_cli(ctx)
    assert code == 0 and "5 entries verified" in out


def test_edited_entry(ctx, chain):
    db.session.execute(text("UPDATE audit_log SET changes = '{\"rows\": 99}' WHERE id = :id"), {"id": chain[3]})
    db.session.commit()
    code, out = verify_cli(ctx)
    assert code == 1 and f"id={chain[3]}" in out and "edited" in out


def test_deleted_entry(ctx, chain):
    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": chain[2]})
    db.session.commit()
    code, out = verify_cli(ctx)
    assert code == 1 and f"id={chain[3]}" in out and "deleted or reordered" in out


def test_reordered_entries(ctx, chain):
    a, b = chain[1], chain[2]
    rows = {r.id: r for r in db.session.execute(text(f"SELECT id, {COLS}, prev_hash, hash FROM audit_log "  # noqa: S608
                                                     "WHERE id IN (:a, :b)"), {"a": a, "b": b})}
    # Swap the two entries' whole content, hashes included (unique columns: park one first).
    db.session.execute(text("UPDATE audit_log SET hash = 'tmp-a', prev_hash = 'tmp-pa' WHERE id = :id"), {"id": a})
    for target, source in ((b, rows[a]), (a, rows[b])):
        db.session.execute(text(f"UPDATE audit_log SET {', '.join(f'{c} = :{c}' for c in COLS.split(', '))}, "  # noqa: S608
                                "prev_hash = :prev_hash, hash = :hash WHERE id = :target"),
                           {**{c: getattr(source, c) for c in COLS.split(", ")}, "prev_hash": source.prev_hash,
                            "hash": source.hash, "target": target})
    db.session.commit()
    code, out = verify_cli(ctx)
    assert code == 1 and f"id={a}" in out and "deleted or reordered" in out


def test_truncated_tail(ctx, chain):
    db.session.execute(text("DELETE FROM audit_log WHERE id >= :id"), {"id": chain[3]})
    db.session.commit()
    code, out = verify_cli(ctx)
    assert code == 1 and "truncated" in out and f"id={chain[4]}" in out


def test_chain_rebuilt_without_the_key(ctx, chain):
    # An attacker deletes an entry and recomputes every later hash: the chain is valid again...
    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": chain[2]})
    rows = db.session.execute(select(AuditLog).where(AuditLog.id > chain[2]).order_by(AuditLog.id)).scalars().all()
    prev = db.session.execute(select(AuditLog.hash).where(AuditLog.id == chain[1])).scalar()
    for i, row in enumerate(rows):
        db.session.execute(text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :id"),
                           {"p": f"tmp{i}", "h": f"tmph{i}", "id": row.id})
    db.session.flush()
    for row in rows:
        db.session.refresh(row)
        row.prev_hash = prev
        row.hash = audit._digest(row)
        db.session.flush()
        prev = row.hash
    db.session.commit()
    assert audit.verify().ok  # ...as far as the chain alone can tell
    code, out = verify_cli(ctx)
    assert code == 1 and "differs from the signed checkpoint" in out


def test_forged_checkpoint(ctx, chain):
    fake = hashlib.sha256(b"guess").hexdigest()
    db.session.execute(text("UPDATE audit_checkpoint SET entries = 4, signature = :s"), {"s": fake})
    db.session.commit()
    code, out = verify_cli(ctx)
    assert code == 1 and "signature is invalid" in out


def test_deleted_checkpoint(ctx, chain):
    db.session.execute(text("DELETE FROM audit_checkpoint"))
    db.session.commit()
    code, out = verify_cli(ctx)
    assert code == 1 and "checkpoint is missing" in out


def test_new_entries_keep_the_checkpoint_in_step(ctx, chain, actor):
    audit.record(actor("admin2"), "export", "customer")
    db.session.commit()
    code, out = verify_cli(ctx)
    assert code == 0 and "6 entries verified" in out
