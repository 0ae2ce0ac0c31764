"""The audit log's hash chain: intact, edited, deleted and reordered entries, and `crm audit verify`."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models.audit_log import AuditLog
from app.services import audit
from tests.factories import make_customer


@pytest.fixture
def chain(actor):  # noqa: ANN001, ANN201
    """Five entries written the way the app writes them; returns their ids in order."""
    clerk = actor("clerk1")
    for _ in range(2):
        c = make_customer(clerk)
        from app.services import customers

        customers.update(c.id, {"city": "上海"}, clerk, version=c.version)
    audit.record(clerk, "export", "customer", None, {"rows": 2})
    db.session.commit()
    ids = list(db.session.execute(select(AuditLog.id).order_by(AuditLog.id)).scalars())
    assert len(ids) == 5
    return ids


def run_verify(app) -> tuple[int, str]:  # noqa: ANN001
    result = app.test_cli_runner().invoke(args=["crm", "audit", "verify"])
    return result.exit_code, result.output


def test_intact_chain_verifies(ctx, chain):
    result = audit.verify()
    assert result.ok and result.checked == len(chain)
    code, output = run_verify(ctx)
    assert code == 0
    assert str(len(chain)) in output


def test_edited_entry_is_named(ctx, chain):
    target = chain[2]
    db.session.execute(text("UPDATE audit_log SET changes = :c WHERE id = :id"),
                       {"c": '{"after": {"city": "nowhere"}}', "id": target})
    db.session.commit()
    result = audit.verify()
    assert not result.ok
    assert result.broken_id == target
    assert "edited" in result.reason
    code, output = run_verify(ctx)
    assert code != 0
    assert f"id={target}" in output


def test_edited_actor_is_detected(ctx, chain):
    db.session.execute(text("UPDATE audit_log SET actor_name = 'someone-else' WHERE id = :id"), {"id": chain[0]})
    db.session.commit()
    assert audit.verify().broken_id == chain[0]


def test_deleted_entry_is_detected(ctx, chain):
    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": chain[1]})
    db.session.commit()
    result = audit.verify()
    assert not result.ok
    # The entry after the gap no longer links to its predecessor.
    assert result.broken_id == chain[2]
    assert "deleted or reordered" in result.reason
    code, output = run_verify(ctx)
    assert code != 0 and f"id={chain[2]}" in output


def test_reordered_entries_are_detected(ctx, chain):
    # Swap the content of two entries (ids stay): each keeps a valid own hash, the links break.
    a, b = chain[1], chain[3]
    cols = "created_at, actor_id, actor_name, action, entity, entity_id, changes, ip, prev_hash, hash"
    rows = {r.id: r for r in db.session.execute(text(f"SELECT id, {cols} FROM audit_log WHERE id IN (:a, :b)"),  # noqa: S608
                                                {"a": a, "b": b})}
    # `hash` and `prev_hash` are unique: park one row's values first.
    db.session.execute(text("UPDATE audit_log SET hash = 'x', prev_hash = 'y' WHERE id = :id"), {"id": a})
    for target, source in ((b, rows[a]), (a, rows[b])):
        params = {k: getattr(source, k) for k in cols.split(", ")}
        params["id"] = target
        db.session.execute(text(
            "UPDATE audit_log SET created_at=:created_at, actor_id=:actor_id, actor_name=:actor_name, "
            "action=:action, entity=:entity, entity_id=:entity_id, changes=:changes, ip=:ip, "
            "prev_hash=:prev_hash, hash=:hash WHERE id=:id"), params)
    db.session.commit()
    result = audit.verify()
    assert not result.ok
    assert result.broken_id == a
    code, output = run_verify(ctx)
    assert code != 0 and f"id={a}" in output


def test_truncating_the_tail_is_not_a_false_alarm(ctx, chain):
    # Removing the newest entry leaves a consistent (shorter) chain: verify reports what it checked.
    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": chain[-1]})
    db.session.commit()
    result = audit.verify()
    assert result.ok and result.checked == len(chain) - 1


def test_new_entries_chain_onto_the_last(ctx, chain, actor):
    last = db.session.execute(select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).scalar_one()
    entry = audit.record(actor("manager"), "export", "customer")
    db.session.commit()
    assert entry.prev_hash == last.hash
    assert audit.verify().ok
