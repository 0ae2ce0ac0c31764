"""Plan import: the catalogue's field rules (`catalog.PLAN_FIELDS`), matched by plan code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.plan import Plan
from app.services.actor import Actor
from app.services.catalog import PLAN_FIELDS
from app.services.errors import Invalid
from app.services.importing.mapping import FieldSpec
from app.services.importing.runner import Kind, RowResult
from app.services.validation import FieldError

FIELDS = [
    FieldSpec("code", _l("Code"), ("编码", "套餐编码", "代码", "plan code"), required=True),
    FieldSpec("name", _l("Name"), ("名称", "套餐名称", "plan name"), required=True),
    FieldSpec("plan_type", _l("Plan type"), ("类型", "套餐类型", "type")),
    FieldSpec("monthly_fee", _l("Monthly fee"), ("月费", "月租", "fee"), required=True),
    FieldSpec("voice_minutes", _l("Voice minutes"), ("通话分钟", "语音分钟", "minutes")),
    FieldSpec("sms_count", _l("SMS"), ("短信", "短信条数", "sms")),
    FieldSpec("data_mb", _l("Data (MB)"), ("流量", "流量mb", "data")),
    FieldSpec("contract_months", _l("Contract months"), ("合约期", "合约月数")),
    FieldSpec("active", _l("Active"), ("在售", "启用")),
]


class PlanKind(Kind):
    name = "plans"
    entity = "plan"
    fields = FIELDS
    match_options = ("code",)
    default_match = ("code",)
    unique_keys = ("code",)
    key_columns = {"code": "code"}

    def clean(self, raw: dict[str, str], actor: Actor) -> dict[str, Any]:
        errors, out = {}, {}
        for field in (f.name for f in FIELDS):
            if field in raw:
                try:
                    out[field] = PLAN_FIELDS[field](raw[field])
                except FieldError as exc:
                    errors[field] = str(exc)
        if errors:
            raise Invalid(errors)
        return out

    def keys(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"code": values.get("code")}

    def lookup(self, rows: list[RowResult], key_names: Iterable[str]) -> dict[tuple[str, Any], tuple[int, str]]:
        codes = {r.keys["code"] for r in rows if r.keys.get("code")}
        if not codes:
            return {}
        return {("code", row.code): (row.id, row.name)
                for row in db.session.execute(select(Plan.id, Plan.name, Plan.code).where(Plan.code.in_(codes)))}

    def insert(self, rows: list[RowResult], actor: Actor) -> None:
        db.session.add_all([Plan(**r.values) for r in rows])
        db.session.flush()

    def update(self, rows: list[RowResult], actor: Actor) -> list[dict[str, Any]]:
        loaded = {p.id: p for p in db.session.execute(
            select(Plan).where(Plan.id.in_([r.target_id for r in rows]))).scalars()}
        diffs = []
        for r in rows:
            plan = loaded[r.target_id]
            changed = {k: v for k, v in r.values.items() if getattr(plan, k) != v}
            if changed:
                before = {k: str(getattr(plan, k)) for k in changed}
                for k, v in changed.items():
                    setattr(plan, k, v)
                diffs.append({"row": r.row, "id": plan.id, "before": before,
                              "after": {k: str(v) for k, v in changed.items()}})
        db.session.flush()
        return diffs


KIND = PlanKind()
