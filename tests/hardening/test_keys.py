"""Encrypted fields fail closed on a wrong key (a clear start-up error), and `crm keys rotate`
re-encrypts every value in batches, recomputing the blind index, resumably."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models.customer import Customer
from app.services import audit, customers, key_rotation
from app.services.crypto import FieldCipher, FieldKeyError, cipher
from tests.factories import make_customer
from tests.hardening.conftest import settings

ROOT = Path(__file__).resolve().parents[2]
OTHER_KEY = base64.b64encode(b"n" * 32).decode()


def _ciphertexts() -> dict[int, tuple[str, str]]:
    db.session.expire_all()
    return {r.id: (r.id_number_enc, r.id_number_bidx)
            for r in db.session.execute(select(Customer.id, Customer.id_number_enc, Customer.id_number_bidx))}


def _start(env_key: str) -> subprocess.CompletedProcess:
    """Start the app in a fresh process on the test database with this field key."""
    env = {**os.environ, "CRM_FIELD_KEY": env_key,
           "DATABASE_URL": db.engine.url.render_as_string(hide_password=False)}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "run", "crm", "keys", "check"],  # noqa: S603
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_wrong_key_stops_the_start_with_a_clear_error(ctx, actor):
    make_customer(actor("clerk1"))
    key_rotation.ensure_key_check()
    wrong = _start(OTHER_KEY)
    assert wrong.returncode != 0
    assert "CRM_FIELD_KEY does not decrypt this database's personal data" in wrong.stderr
    right = _start(os.environ["CRM_FIELD_KEY"])
    assert right.returncode == 0, right.stderr
    assert "Field key OK" in right.stdout


def test_without_a_check_row_a_stored_value_is_the_check(ctx, actor):
    make_customer(actor("clerk1"))
    with db.engine.connect() as conn:
        key_rotation.check_key(conn, cipher())
        with pytest.raises(FieldKeyError, match="field key check failed"):
            key_rotation.check_key(conn, FieldCipher(OTHER_KEY))


def test_rotation_reencrypts_in_batches_and_search_reveal_work_under_the_new_key(app, ctx, actor):
    clerk = actor("clerk1")
    made = [make_customer(clerk) for _ in range(5)]
    plain = {c.id: customers.reveal_value(c) for c in made}
    key_rotation.ensure_key_check()
    audit.record(clerk, "export", "customer")
    db.session.commit()
    before = _ciphertexts()

    result = key_rotation.rotate(OTHER_KEY, batch_size=2)
    assert (result.rotated, result.already, result.batches) == (5, 0, 3)
    after = _ciphertexts()
    new, old = FieldCipher(OTHER_KEY), cipher()
    for cid, (enc, bidx) in after.items():
        assert enc != before[cid][0] and bidx != before[cid][1]
        assert new.decrypt(enc, b"customer.id_number") == plain[cid]
        assert bidx == new.blind_index(plain[cid])
        with pytest.raises(FieldKeyError):
            old.decrypt(enc, b"customer.id_number")
    # The old key no longer starts the app; the new one does.
    with db.engine.connect() as conn:
        with pytest.raises(FieldKeyError):
            key_rotation.check_key(conn, old)
        key_rotation.check_key(conn, new)

    # Running it again (an interrupted rotation resumed) changes nothing.
    again = key_rotation.rotate(OTHER_KEY, batch_size=2)
    assert (again.rotated, again.already) == (0, 5)
    assert _ciphertexts() == after

    # Under the new key: exact search by ID number, reveal, and the audit log all still work.
    target = made[0]
    with settings(app, CRM_FIELD_KEY=OTHER_KEY):
        found = customers.find_by_id_number(plain[target.id], actor("manager"))
        assert found is not None and found.id == target.id
        assert customers.reveal(target.id, actor("manager"))["id_number"] == plain[target.id]
        code = app.test_cli_runner().invoke(args=["crm", "audit", "verify"])
        assert code.exit_code == 0, code.output
    db.session.execute(text("DELETE FROM field_key_check"))
    db.session.commit()


def test_rows_written_with_the_old_key_meanwhile_are_picked_up(app, ctx, actor):
    clerk = actor("clerk1")
    make_customer(clerk)
    key_rotation.rotate(OTHER_KEY)
    late = make_customer(clerk)  # a process still on the old key wrote this after the rotation
    with settings(app, CRM_FIELD_KEY=OTHER_KEY, CRM_FIELD_KEYS_OLD=os.environ["CRM_FIELD_KEY"]):
        result = key_rotation.rotate(base64.b64encode(b"m" * 32).decode())
        assert result.rotated == 2
    db.session.execute(text("DELETE FROM field_key_check"))
    db.session.commit()
    assert late.id


def test_rotate_command(app, ctx, actor):
    make_customer(actor("clerk1"))
    runner = app.test_cli_runner()
    res = runner.invoke(args=["crm", "keys", "rotate", "--new-key", os.environ["CRM_FIELD_KEY"]])
    assert res.exit_code == 1 and "is the current CRM_FIELD_KEY" in res.output
    res = runner.invoke(args=["crm", "keys", "rotate", "--new-key", "not-base64!"])
    assert res.exit_code == 1 and "base64" in res.output
    res = runner.invoke(args=["crm", "keys", "rotate", "--new-key", OTHER_KEY, "--batch-size", "1"])
    assert res.exit_code == 0, res.output
    assert "1 values re-encrypted" in res.output
    db.session.execute(text("DELETE FROM field_key_check"))
    db.session.commit()
