"""`crm keys rotate` prints a post-restart hint; following it must work (it used to fail both ways:
with the new key current the command refused "nothing to rotate", with the old key current the app
refused to start). The catch-up run re-encrypts rows written with the old key in between."""

from __future__ import annotations

import base64
import os

from sqlalchemy import select, text

from app.extensions import db
from app.models.customer import Customer
from app.services import customers
from tests.factories import customer_data, make_customer
from tests.hardening.conftest import settings

OLD = os.environ["CRM_FIELD_KEY"]
NEW = base64.b64encode(b"q" * 32).decode()


def test_following_the_rotate_hint_catches_rows_written_meanwhile(app, ctx, actor):
    clerk = actor("clerk1")
    make_customer(clerk)
    runner = app.test_cli_runner()
    res = runner.invoke(args=["crm", "keys", "rotate", "--new-key", NEW])
    assert res.exit_code == 0, res.output
    assert "CRM_FIELD_KEY=<the new key> and CRM_FIELD_KEYS_OLD=<the old key>" in res.output
    # A process still on the old key writes a customer before the restart.
    late_id_number = customer_data()["id_number"]
    late = make_customer(clerk, id_number=late_id_number)
    try:
        # After the restart, as the hint says: the new key current, the old one still readable.
        with settings(app, CRM_FIELD_KEY=NEW, CRM_FIELD_KEYS_OLD=OLD):
            found = db.session.execute(select(Customer.id).where(Customer.id_number == late_id_number)).all()
            assert found == []  # its blind index is still the old key's: exact search misses it
            res = runner.invoke(args=["crm", "keys", "rotate", "--new-key", NEW])
            assert res.exit_code == 0, res.output
            assert "1 values re-encrypted" in res.output and "Catch-up done" in res.output
            db.session.expire_all()
            found = db.session.execute(select(Customer.id).where(Customer.id_number == late_id_number)).scalars()
            assert list(found) == [late.id]
            assert customers.reveal_value(db.session.get(Customer, late.id)) == late_id_number
        # Without the old key the same command explains what is missing instead of doing nothing.
        with settings(app, CRM_FIELD_KEY=NEW, CRM_FIELD_KEYS_OLD=""):
            res = runner.invoke(args=["crm", "keys", "rotate", "--new-key", NEW])
            assert res.exit_code == 1 and "CRM_FIELD_KEYS_OLD=OLD" in res.output
    finally:
        db.session.execute(text("DELETE FROM field_key_check"))
        db.session.commit()
