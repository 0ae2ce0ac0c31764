"""Customer import service: encodings, policies, update in place, dry run, batch rollback, CLI."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.bill import Bill
from app.models.business_change import BusinessChange
from app.models.customer import Customer
from app.models.import_job import ImportRun
from app.services import subscriptions
from app.services.errors import Invalid
from app.services.identity import make_id_number
from app.services.importing import mapping, runner
from tests.factories import make_customer, make_plan
from tests.imports.helpers import csv_bytes, person, xlsx_bytes

HEADER_ZH = ["姓名", "身份证号", "手机号", "城市"]


def _count(model=Customer) -> int:  # noqa: ANN001
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def _rows(*ns: int, city: str = "杭州") -> list[list[str]]:
    return [[person(n)["name"], person(n)["id_number"], person(n)["mobile"], city] for n in ns]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_each_encoding_with_chinese_headers(ctx, actor, encoding):
    data = csv_bytes(HEADER_ZH, _rows(1, 2, 3), encoding)
    report = runner.run("customers", "c.csv", data, actor("clerk1"))
    assert (report.created, report.failed, report.errors) == (3, 0, [])
    assert report.mapping == {"姓名": "name", "身份证号": "id_number", "手机号": "mobile", "城市": "city"}
    names = db.session.execute(select(Customer.name, Customer.city).order_by(Customer.id)).all()
    assert [tuple(r) for r in names] == [("导入客户1", "杭州"), ("导入客户2", "杭州"), ("导入客户3", "杭州")]
    c = db.session.execute(select(Customer).where(Customer.id_number == person(2)["id_number"])).scalar_one()
    assert c.mobile == person(2)["mobile"] and c.birth_date == dt.date(1980, 1, 3) and c.carrier == "cmcc"


def test_xlsx_with_numeric_mobile_cells(ctx, actor):
    rows = [[r[0], r[1], int(r[2]), r[3]] for r in _rows(4, 5)]
    report = runner.run("customers", "c.xlsx", xlsx_bytes(HEADER_ZH, rows), actor("clerk1"))
    assert report.created == 2 and report.encoding == "xlsx"
    assert _count() == 2


def test_dry_run_writes_nothing_and_reports(ctx, actor):
    existing = make_customer(actor("clerk1"), **person(1))
    before_audit = _count(AuditLog)
    bad = [["坏行", "110105198001010000", "12345", "杭州"]]
    data = csv_bytes(HEADER_ZH, _rows(1, 2) + bad)
    report = runner.run("customers", "c.csv", data, actor("clerk1"), dry_run=True, policy="update")
    assert (report.created, report.updated, report.failed) == (1, 1, 1)
    assert report.duplicates[0].target_id == existing.id
    assert {(row, col) for row, col, _m in report.errors} == {(4, "id_number"), (4, "mobile")}
    assert _count() == 1 and _count(ImportRun) == 0 and _count(AuditLog) == before_audit
    assert _count(BusinessChange) == 0


@pytest.mark.parametrize("policy, created, updated, skipped", [("skip", 1, 0, 1), ("update", 1, 1, 0)])
def test_policy_skip_and_update(ctx, actor, policy, created, updated, skipped):
    make_customer(actor("clerk1"), **person(1), city="北京")
    report = runner.run("customers", "c.csv", csv_bytes(HEADER_ZH, _rows(1, 2)), actor("clerk1"), policy=policy)
    assert (report.created, report.updated, report.skipped, report.failed) == (created, updated, skipped, 0)
    city = db.session.execute(select(Customer.city).where(Customer.mobile == person(1)["mobile"])).scalar()
    assert city == ("杭州" if policy == "update" else "北京")


def test_policy_create_makes_a_second_customer_on_name_birth_match(ctx, actor):
    """Matching by name + birth date only: `create` adds a new customer (different ID and mobile)."""
    p = person(1)
    make_customer(actor("clerk1"), **p)
    other_id = make_id_number("110105", dt.date(1980, 1, 2), 77, "M")  # same birth date, other ID
    assert other_id != p["id_number"]
    data = csv_bytes(HEADER_ZH, [[p["name"], other_id, "13910009999", "杭州"]])
    dry = runner.run("customers", "c.csv", data, actor("clerk1"), match="name_birth", dry_run=True)
    assert dry.duplicates and dry.rows[0].match == "name_birth" and dry.skipped == 1
    report = runner.run("customers", "c.csv", data, actor("clerk1"), match="name_birth", policy="create")
    assert report.created == 1 and _count() == 2
    # create never overrides the database's uniqueness: the same mobile again is an error naming the column
    data = csv_bytes(HEADER_ZH, [[p["name"], make_id_number("110105", dt.date(1980, 1, 2), 78, "M"),
                                  p["mobile"], "杭州"]])
    report = runner.run("customers", "c.csv", data, actor("clerk1"), match="name_birth", policy="create")
    assert report.created == 0 and [(r, c) for r, c, _m in report.errors] == [(2, "mobile")]


def test_update_in_place_keeps_id_relations_and_history(ctx, actor):
    clerk = actor("clerk1")
    customer = make_customer(clerk, **person(1), city="北京", email="old@example.com")
    plan = make_plan(actor("manager"))
    sub = subscriptions.open_line({"customer_id": customer.id, "plan_id": plan.id, "number": "13700001111"}, clerk)
    bill = Bill(customer_id=customer.id, month=dt.date(2026, 1, 1), base_fee=Decimal("59"), total=Decimal("59"),
                paid_amount=Decimal("0"), due_date=dt.date(2026, 2, 15), status="unpaid")
    db.session.add(bill)
    db.session.commit()
    history_before = _count(BusinessChange)
    cid, version = customer.id, customer.version
    # Only name and city are mapped; email is not in the file and must stay.
    p = person(1)
    data = csv_bytes(["身份证号", "姓名", "城市"], [[p["id_number"], "新名字", "上海"]])
    report = runner.run("customers", "c.csv", data, clerk, policy="update")
    assert report.updated == 1 and report.created == 0
    db.session.expire_all()
    c = db.session.get(Customer, cid)
    assert (c.name, c.city, c.email, c.mobile) == ("新名字", "上海", "old@example.com", p["mobile"])
    assert c.version == version + 1
    assert db.session.get(type(sub), sub.id).customer_id == cid
    assert db.session.get(Bill, bill.id).customer_id == cid
    change = db.session.execute(select(BusinessChange).where(BusinessChange.customer_id == cid)
                                .order_by(BusinessChange.id.desc())).scalars().first()
    assert _count(BusinessChange) == history_before + 1
    assert json.loads(change.after) == {"name": "新名字", "city": "上海"}
    run = db.session.get(ImportRun, report.run_id)
    assert run.status == "done" and run.updated_count == 1 and json.loads(run.changes)[0]["id"] == cid


def test_per_row_choices_override_the_policy(ctx, actor):
    make_customer(actor("clerk1"), **person(1))
    make_customer(actor("clerk1"), **person(2))
    data = csv_bytes(HEADER_ZH, _rows(1, 2, 3))
    report = runner.run("customers", "c.csv", data, actor("clerk1"), policy="skip", choices={2: "update", 4: "skip"})
    assert (report.updated, report.skipped, report.created) == (1, 2, 0)


def test_duplicates_within_the_file_are_skipped_and_named(ctx, actor):
    p1, p2 = person(1), person(2)
    data = csv_bytes(HEADER_ZH, [[p1["name"], p1["id_number"], p1["mobile"], ""],
                                 [p2["name"], p2["id_number"], p1["mobile"], ""]])
    report = runner.run("customers", "c.csv", data, actor("clerk1"))
    assert (report.created, report.skipped) == (1, 1)
    assert report.errors[0][:2] == (3, "mobile") and "2" in report.errors[0][2]


def test_bad_row_rolls_back_only_its_batch(ctx, actor):
    rows = _rows(1, 2, 3, 4, 5, 6)
    rows[3][2] = "1234"  # row 5 of the file: bad mobile, in the second batch of two
    report = runner.run("customers", "c.csv", csv_bytes(HEADER_ZH, rows), actor("clerk1"), batch_size=2)
    assert (report.created, report.failed) == (4, 2)
    mobiles = set(db.session.execute(select(Customer.mobile)).scalars())
    assert mobiles == {person(n)["mobile"] for n in (1, 2, 5, 6)}
    assert (5, "mobile") in {(r, c) for r, c, _m in report.errors}
    assert any(r == 4 and "4" in m and "5" in m for r, _c, m in report.errors)  # the batch notice
    run = db.session.get(ImportRun, report.run_id)
    assert (run.created_count, run.failed_count, run.processed, run.total) == (4, 2, 6, 6)
    audits = db.session.execute(select(AuditLog).where(AuditLog.action == "import")).scalars().all()
    assert len(audits) == 1 and audits[0].entity_id == str(run.id)


def test_database_error_rolls_back_only_that_batch(ctx, actor, monkeypatch):
    """A clash that appears between the check and the write (another clerk) loses only its batch."""
    from app.services.importing import customers as kind_mod

    original = kind_mod.CustomerKind.insert
    calls = {"n": 0}

    def racing_insert(self, rows, actor_):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] == 2:  # someone else took the mobile of the second batch's first row
            make_customer(actor("manager"), name="抢先", mobile=rows[0].values["mobile"])
        return original(self, rows, actor_)

    monkeypatch.setattr(kind_mod.CustomerKind, "insert", racing_insert)
    report = runner.run("customers", "c.csv", csv_bytes(HEADER_ZH, _rows(1, 2, 3, 4)), actor("clerk1"), batch_size=2)
    assert (report.created, report.failed) == (2, 2)
    assert [(r, c) for r, c, _m in report.errors] == [(4, "mobile")]
    assert _count() == 3  # two from batch one, plus the racing customer


def test_skip_invalid_imports_the_rest(ctx, actor):
    rows = _rows(1, 2)
    rows[0][1] = "110105198001010001"
    report = runner.run("customers", "c.csv", csv_bytes(HEADER_ZH, rows), actor("clerk1"), skip_invalid=True)
    assert (report.created, report.failed) == (1, 1) and report.errors[0][:2] == (2, "id_number")


def test_birth_date_and_gender_checked_against_the_id(ctx, actor):
    p = person(1)
    data = csv_bytes(["姓名", "身份证号", "手机号", "性别", "出生日期"],
                     [[p["name"], p["id_number"], p["mobile"], "女", "1990-01-01"]])
    report = runner.run("customers", "c.csv", data, actor("clerk1"), dry_run=True)
    assert {c for _r, c, _m in report.errors} == {"gender", "birth_date"}
    make_customer(actor("clerk1"), **p)
    data = csv_bytes(["手机号", "出生日期"], [[p["mobile"], "1990-01-01"]])
    report = runner.run("customers", "c.csv", data, actor("clerk1"), policy="update", match="mobile", dry_run=True)
    assert [c for _r, c, _m in report.errors] == ["birth_date"]


def test_saved_mapping_and_required_columns(ctx, actor):
    data = csv_bytes(["col_a", "col_b", "col_c"], [r[:3] for r in _rows(1)])
    with pytest.raises(Invalid) as exc:
        runner.run("customers", "c.csv", data, actor("clerk1"), dry_run=True)
    assert {"name", "id_number", "mobile"} <= set(exc.value.errors)
    mapping.save("customers", "legacy", {"col_a": "name", "col_b": "id_number", "col_c": "mobile"}, actor("clerk1"))
    report = runner.run("customers", "c.csv", data, actor("clerk1"), mapping="legacy")
    assert report.created == 1


def test_bad_options_are_field_errors(ctx, actor):
    data = csv_bytes(HEADER_ZH, _rows(1))
    for kwargs, field in (({"policy": "merge"}, "policy"), ({"match": "email"}, "match"), ({"mapping": "nope"}, None)):
        with pytest.raises(Exception) as exc:  # noqa: PT011
            runner.run("customers", "c.csv", data, actor("clerk1"), **kwargs)
        if field:
            assert field in exc.value.errors
    assert _count() == 0


def test_cli(app, tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(csv_bytes(HEADER_ZH, _rows(1, 2) + [["坏", "x", "y", ""]], "gbk"))
    cli = app.test_cli_runner()
    result = cli.invoke(args=["crm", "import", "customers", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would create 2" in result.output and "row 4" in result.output
    with app.app_context():
        assert _count() == 0
    report = tmp_path / "errors.csv"
    result = cli.invoke(args=["crm", "import", "customers", str(path), "--policy", "update", "--skip-invalid",
                              "--match", "id_number,mobile", "--report", str(report), "--user", "clerk1"])
    assert result.exit_code == 3 and "created 2" in result.output
    text = report.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[1].startswith("4,id_number,")
    result = cli.invoke(args=["crm", "import", "customers", str(path), "--policy", "merge"])
    assert result.exit_code != 0
    bad = tmp_path / "x.txt"
    bad.write_text("hi")
    result = cli.invoke(args=["crm", "import", "customers", str(bad)])
    assert result.exit_code == 1 and "Error" in result.output
