"""Leads and plans through the same engine: validation, duplicates, update in place, CLI."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models.lead import Lead
from app.models.plan import Plan
from app.services.importing import runner
from tests.factories import make_customer, make_plan
from tests.imports.helpers import csv_bytes


def test_leads_import_creates_updates_and_refuses_customers(ctx, actor):
    make_customer(actor("sales2"), mobile="13822220002")
    data = csv_bytes(["姓名", "手机号", "来源", "意向"],
                     [["张一", "13911110001", "hotline", "5G"], ["张三", "13822220002", "website", ""],
                      ["张五", "13933330003", "radio", ""]])
    report = runner.run("leads", "l.csv", data, actor("sales1"), skip_invalid=True)
    assert (report.created, report.failed) == (1, 2)
    assert {(r, c) for r, c, _m in report.errors} == {(3, "mobile"), (4, "source")}
    lead = db.session.execute(select(Lead)).scalar_one()
    assert (lead.owner_id, lead.status, lead.interest) == (actor("sales1").id, "new", "5G")
    again = csv_bytes(["name", "mobile", "source", "interest"], [["张一", "13911110001", "hotline", "宽带"]])
    report = runner.run("leads", "l.csv", again, actor("sales1"), policy="update")
    assert report.updated == 1
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).interest == "宽带"


def test_plans_import_matches_by_code(ctx, actor):
    make_plan(actor("manager"), code="P-OLD", name="旧套餐")
    data = csv_bytes(["套餐编码", "套餐名称", "月费", "流量"],
                     [["P-OLD", "旧套餐升级", "79.00", "30720"], ["P-NEW", "新套餐", "99", "40960"],
                      ["P-BAD", "坏", "1.234", ""]])
    dry = runner.run("plans", "p.csv", data, actor("manager"), policy="update", dry_run=True)
    assert (dry.created, dry.updated, dry.failed) == (1, 1, 1) and dry.errors[0][:2] == (4, "monthly_fee")
    report = runner.run("plans", "p.csv", data, actor("manager"), policy="update", skip_invalid=True)
    assert (report.created, report.updated) == (1, 1)
    plans = {p.code: p for p in db.session.execute(select(Plan)).scalars()}
    assert plans["P-OLD"].name == "旧套餐升级" and plans["P-OLD"].monthly_fee == Decimal("79.00")
    assert plans["P-NEW"].data_mb == 40960 and "P-BAD" not in plans


def test_cli_leads_and_plans(app, tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(csv_bytes(["code", "name", "monthly_fee"], [["P9", "九号", "9.90"]], "utf-8-sig"))
    result = app.test_cli_runner().invoke(args=["crm", "import", "plans", str(path), "--user", "manager"])
    assert result.exit_code == 0 and "created 1" in result.output, result.output
    path = tmp_path / "l.csv"
    path.write_bytes(csv_bytes(["name", "mobile", "source"], [["王", "13911110009", "walk_in"]], "gbk"))
    result = app.test_cli_runner().invoke(args=["crm", "import", "leads", str(path), "--user", "sales1"])
    assert result.exit_code == 0 and "created 1" in result.output, result.output
    with app.app_context():
        assert db.session.execute(select(Lead.name)).scalar() == "王"
