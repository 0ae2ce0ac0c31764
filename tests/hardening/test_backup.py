"""Backup and restore: a seeded database is backed up, changed, restored, and every table's row count
and content checksum is back to the backup's; a corrupt or mismatched file is refused, changing nothing."""

from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import delete, select, update

from app.extensions import db
from app.models.bill import BillLine
from app.models.customer import Customer
from app.models.department import Department
from app.models.user import CrmUser
from app.services import backup as backups
from app.services import customers, teams
from tests.browser.data import make_rich_customer
from tests.factories import customer_data


def live_checksums() -> dict:
    db.session.remove()
    with db.engine.connect() as conn:
        return backups.table_checksums(conn)


@pytest.fixture
def seeded(ctx, actor):  # noqa: ANN001, ANN201
    clerk = actor("clerk1")
    first = make_rich_customer(clerk, mobile="13912340001", months=3)
    make_rich_customer(clerk, mobile="13912340002", months=2, seed=9)
    customers.update(first.id, {"address": "上海市浦东新区世纪大道100号"}, clerk, version=first.version)
    # Departments, users and teams point at each other (a head, a user's department and team, a lead):
    # no table order puts every parent first, and a restore must still put them all back.
    manager, lead = actor("manager"), actor("sales1")
    dept = db.session.execute(select(Department).where(Department.code == "sales")).scalar_one()
    teams.create_team({"name": "备份测试组", "department_id": dept.id, "lead_user_id": lead.id}, manager)
    teams.update_department(dept.id, {"head_user_id": lead.id}, manager)
    yield clerk
    db.session.rollback()
    db.session.execute(update(Department).values(head_user_id=None))
    db.session.execute(update(CrmUser).values(team_id=None))
    db.session.commit()


def _mutate(clerk) -> None:  # noqa: ANN001
    c = db.session.execute(select(Customer).order_by(Customer.id)).scalars().first()
    customers.update(c.id, {"address": "被改动的地址 1号"}, clerk, version=c.version)
    db.session.execute(delete(BillLine).where(BillLine.id == db.session.execute(select(BillLine.id).limit(1)).scalar()))
    db.session.commit()
    customers.create(customer_data(mobile="13700000009", name="后来者"), clerk)


@pytest.mark.parametrize("kind", ["auto", "logical"])
def test_backup_mutate_restore_gives_back_every_table(seeded, tmp_path, kind):
    before = live_checksums()
    assert before["customer"]["rows"] == 2 and before["bill_line"]["rows"] > 0 and before["audit_log"]["rows"] > 0
    path = tmp_path / "crm.backup"
    manifest = backups.backup(path, kind)
    assert manifest["tables"] == before
    assert manifest["kind"] == ("logical" if kind == "logical" else
                                {"sqlite": "sqlite", "postgresql": "pg_dump"}[db.engine.dialect.name])
    assert manifest["file_sha256"] == backups.file_sha256(path)

    _mutate(seeded)
    changed = live_checksums()
    assert changed["customer"]["rows"] == 3
    assert changed["bill_line"]["rows"] == before["bill_line"]["rows"] - 1

    result = backups.restore(path)
    after = live_checksums()
    assert after == before  # every table: same row count, same content checksum
    assert result.rows == sum(t["rows"] for t in before.values())
    # The restored data is usable: the customer's encrypted ID number still decrypts.
    c = db.session.execute(select(Customer).order_by(Customer.id)).scalars().first()
    assert c.address == "上海市浦东新区世纪大道100号" and len(customers.reveal_value(c)) == 18
    head = db.session.execute(select(Department.head_user_id).where(Department.code == "sales")).scalar()
    assert head is not None and db.session.get(CrmUser, head).team.lead_user_id == head


def test_corrupt_or_mismatched_files_are_refused_and_nothing_changes(seeded, tmp_path, app):
    path = tmp_path / "crm.backup"
    backups.backup(path)
    other = tmp_path / "other.backup"
    backups.backup(other, "logical")
    _mutate(seeded)
    state = live_checksums()

    corrupt = tmp_path / "corrupt.backup"
    shutil.copy(path, corrupt)
    shutil.copy(backups.manifest_path(path), backups.manifest_path(corrupt))
    data = bytearray(corrupt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    with pytest.raises(backups.BackupError, match="SHA-256 differs"):
        backups.restore(corrupt)

    # A manifest that belongs to another backup.
    own = backups.manifest_path(path).read_text()
    shutil.copy(backups.manifest_path(other), backups.manifest_path(path))
    with pytest.raises(backups.BackupError, match="does not match its manifest"):
        backups.restore(path)
    backups.manifest_path(path).write_text(own)

    # A file whose content is not what its manifest says (manifest edited, or the file swapped and the
    # hash recomputed): the per-table content check refuses it, for every kind of backup.
    for file in (path, other):
        manifest = json.loads(backups.manifest_path(file).read_text())
        manifest["tables"]["customer"]["rows"] += 1
        manifest["tables"]["plan"]["sha256"] = "0" * 64
        backups.manifest_path(file).write_text(json.dumps(manifest))
        with pytest.raises(backups.BackupError, match=r"customer: 2 rows \(manifest 3\).*plan: .*checksum differs"):
            backups.restore(file)

    with pytest.raises(backups.BackupError, match="manifest .* is missing"):
        _missing_manifest(tmp_path)
    assert live_checksums() == state

    # The commands say so and exit non-zero.
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "restore", str(corrupt)])
    assert result.exit_code == 1 and "restore refused" in result.output and "SHA-256" in result.output
    assert live_checksums() == state


def _missing_manifest(tmp_path) -> None:  # noqa: ANN001
    lone = tmp_path / "lone.backup"
    lone.write_bytes(b"not a backup")
    backups.restore(lone)


def test_backup_and_restore_commands(seeded, tmp_path, app):
    path = tmp_path / "cli.backup"
    runner = app.test_cli_runner()
    before = live_checksums()
    result = runner.invoke(args=["crm", "backup", str(path)])
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output and backups.manifest_path(path).exists()
    _mutate(seeded)
    result = runner.invoke(args=["crm", "restore", "--check-only", str(path)])
    assert result.exit_code == 0 and "verified" in result.output
    result = runner.invoke(args=["crm", "restore", str(path)])
    assert result.exit_code == 0, result.output
    assert live_checksums() == before
