"""The field key: a start-up check that it is the right one, and its rotation (`crm keys rotate`).

Fail closed: the one-row table `field_key_check` holds a known value encrypted with the key the
database's personal data is encrypted with. Every start (web worker, CLI command) decrypts it with
CRM_FIELD_KEY; if that fails the app refuses to start with a clear message, instead of writing new
ciphertext and blind indexes nobody can match with the old ones. (No check row yet, e.g. a database
from before this table: one stored resident ID is decrypted instead.)

Rotation, in batches, resumable: `crm keys rotate --new-key NEW` run with the current key in
CRM_FIELD_KEY re-encrypts every registered field (ENCRYPTED_FIELDS) with NEW and recomputes its blind
index (the index is keyed by the field key), committing each batch; rows already under NEW are skipped,
so an interrupted rotation is simply run again. At the end the key check and the audit checkpoint's
signature move to NEW. Then restart every process with CRM_FIELD_KEY=NEW and CRM_FIELD_KEYS_OLD=OLD,
and run `crm keys rotate --new-key NEW` once more with those settings: the catch-up run re-encrypts the
rows that processes still on OLD wrote in between (NEW being the current key is then no error), after
which CRM_FIELD_KEYS_OLD can go. Until the restart, old processes refuse nothing but exact ID-number
search misses rotated rows: rotate in a quiet hour.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Connection, bindparam, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from app.extensions import db
from app.models.base import utcnow
from app.models.hardening import FieldKeyCheck
from app.services.crypto import FieldCipher, FieldKeyError, cipher

log = logging.getLogger(__name__)

CHECK_PLAINTEXT = "crm-field-key-check"
CHECK_CONTEXT = b"field_key_check"


@dataclass(frozen=True)
class EncryptedField:
    table: str
    ciphertext: str
    blind_index: str | None
    context: bytes


# Every encrypted column: a new one is added here, and rotation covers it.
ENCRYPTED_FIELDS = (
    EncryptedField("customer", "id_number_enc", "id_number_bidx", b"customer.id_number"),
)

WRONG_KEY = ("CRM_FIELD_KEY does not decrypt this database's personal data (the field key check failed). "
             "Start with the key the data was encrypted with — after `crm keys rotate`, the new key. "
             "Refusing to start rather than write data nobody could read.")


def check_key(conn: Connection, c: FieldCipher) -> None:
    """Raise FieldKeyError if `c`'s current key is not the database's field key."""
    stored = conn.execute(select(FieldKeyCheck.check_value).where(FieldKeyCheck.id == 1)).scalar()
    if stored is not None:
        if not c.decrypts_with_current_key(stored, CHECK_CONTEXT):
            raise FieldKeyError(WRONG_KEY)
        return
    sample = conn.execute(text("SELECT id_number_enc FROM customer ORDER BY id LIMIT 1")).scalar()
    if sample is not None:
        try:
            c.decrypt(sample, b"customer.id_number")
        except FieldKeyError as exc:
            raise FieldKeyError(WRONG_KEY) from exc


def check_field_key(app: Flask) -> None:
    """Start-up check (called by create_app). A database that is not there yet (before `crm init`) or
    not reachable is left to `crm init` and /health; a wrong key stops the start."""
    with app.app_context():
        try:
            with db.engine.connect() as conn:
                check_key(conn, cipher())
        except (OperationalError, ProgrammingError) as exc:
            log.info("field key check skipped: %s", str(exc).splitlines()[0])
        except DBAPIError as exc:  # e.g. the database server is down: /health reports it
            log.warning("field key check skipped, database unavailable: %s", str(exc).splitlines()[0])


def ensure_key_check() -> None:
    """Write the key check value if there is none yet (`crm init`); never overwrites one."""
    with db.engine.connect() as conn:
        check_key(conn, cipher())  # never bless a wrong key
    if db.session.get(FieldKeyCheck, 1) is None:
        db.session.add(FieldKeyCheck(id=1, check_value=cipher().encrypt(CHECK_PLAINTEXT, CHECK_CONTEXT),
                                     updated_at=utcnow()))
        db.session.commit()


@dataclass
class RotationResult:
    rotated: int
    already: int
    batches: int


def rotate(new_key_b64: str, batch_size: int = 1000, progress=None) -> RotationResult:  # noqa: ANN001
    """Re-encrypt every registered field under the new key, one committed batch at a time."""
    current = cipher()
    new = FieldCipher(new_key_b64.strip())
    probe = new.encrypt(CHECK_PLAINTEXT, CHECK_CONTEXT)
    if current.decrypts_with_current_key(probe, CHECK_CONTEXT) and len(current.derived_keys(b"probe")) == 1:
        # NEW is already the current key and no old key is configured: nothing could be decrypted
        # that is not already under NEW. (With CRM_FIELD_KEYS_OLD set, this is the catch-up run
        # after the restart: rows that processes still on the old key wrote are re-encrypted.)
        raise FieldKeyError("the new key is the current CRM_FIELD_KEY; nothing to rotate. To re-encrypt rows "
                            "written with the old key after a rotation, run with CRM_FIELD_KEY=NEW and "
                            "CRM_FIELD_KEYS_OLD=OLD")
    result = RotationResult(0, 0, 0)
    for field in ENCRYPTED_FIELDS:
        _rotate_field(field, current, new, max(1, batch_size), result, progress)
    from app.services import audit
    from app.services.actor import SYSTEM

    audit.record(SYSTEM, "key_rotation", "field_key", None,
                 {"rotated": result.rotated, "already": result.already,
                  "fields": [f"{f.table}.{f.ciphertext}" for f in ENCRYPTED_FIELDS]})
    check = db.session.get(FieldKeyCheck, 1) or FieldKeyCheck(id=1)
    check.check_value, check.updated_at = probe, utcnow()
    db.session.add(check)
    audit.resign_checkpoint(new.derived_keys(b"crm-audit-checkpoint")[0])
    db.session.commit()
    return result


def _rotate_field(field: EncryptedField, current: FieldCipher, new: FieldCipher, batch_size: int,
                  result: RotationResult, progress) -> None:  # noqa: ANN001
    from sqlalchemy import MetaData, Table

    table = Table(field.table, MetaData(), autoload_with=db.engine)
    pk = next(iter(table.primary_key.columns))
    enc = table.c[field.ciphertext]
    values = {field.ciphertext: bindparam("_enc")}
    if field.blind_index:
        values[field.blind_index] = bindparam("_bidx")
    stmt = update(table).where(pk == bindparam("_pk")).values(values)
    last = None
    while True:
        query = select(pk, enc).where(enc.is_not(None)).order_by(pk).limit(batch_size)
        if last is not None:
            query = query.where(pk > last)
        rows = db.session.execute(query).all()
        if not rows:
            return
        changes = []
        for key, token in rows:
            if new.decrypts_with_current_key(token, field.context):
                result.already += 1
                continue
            plain = current.decrypt(token, field.context)  # current key, or one of CRM_FIELD_KEYS_OLD
            change = {"_pk": key, "_enc": new.encrypt(plain, field.context)}
            if field.blind_index:
                change["_bidx"] = new.blind_index(plain)
            changes.append(change)
        if changes:
            db.session.execute(stmt, changes)
        db.session.commit()
        result.rotated += len(changes)
        result.batches += 1
        last = rows[-1][0]
        if progress:
            progress(field, result)
