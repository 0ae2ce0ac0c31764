"""Lead import through the engine: the lead entry rules, duplicates against open leads by mobile or
ID number; a row whose person is already a customer is refused (log the contact there instead)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.customer import Customer
from app.models.lead import LEAD_SOURCES, Lead
from app.security.access import scope_sales, sees_all_sales
from app.services.actor import Actor
from app.services.crypto import cipher
from app.services.errors import Invalid
from app.services.importing.mapping import FieldSpec
from app.services.importing.runner import Kind, RowResult
from app.services.leads import ACTIVE_STATUSES, _apply, rescore
from app.services.validation import (
    FieldError,
    check_choice,
    check_email,
    check_id_number,
    check_mobile,
    check_name,
    check_text,
)

FIELDS = [
    FieldSpec("name", _l("Name"), ("姓名", "客户姓名", "名字"), required=True),
    FieldSpec("mobile", _l("Mobile"), ("手机号", "手机", "手机号码", "联系电话", "phone"), required=True),
    FieldSpec("id_number", _l("Resident ID number"), ("身份证号", "身份证", "身份证号码", "证件号码")),
    FieldSpec("email", _l("Email"), ("邮箱", "电子邮箱")),
    FieldSpec("city", _l("City"), ("城市",)),
    FieldSpec("source", _l("Source"), ("来源", "线索来源"), required=True),
    FieldSpec("interest", _l("Interest (product)"), ("意向", "意向产品")),
    FieldSpec("notes", _l("Notes"), ("备注",)),
]
CHECKS = {
    "name": check_name, "mobile": check_mobile, "id_number": check_id_number, "email": check_email,
    "city": lambda v: check_text(v, 32), "source": lambda v: check_choice(v, LEAD_SOURCES),
    "interest": lambda v: check_text(v, 128), "notes": lambda v: check_text(v, 2000),
}


class LeadKind(Kind):
    name = "leads"
    entity = "lead"
    fields = FIELDS
    match_options = ("mobile", "id_number")
    default_match = ("mobile", "id_number")
    unique_keys = ()
    key_columns = {"mobile": "mobile", "id_number": "id_number"}

    def clean(self, raw: dict[str, str], actor: Actor) -> dict[str, Any]:
        errors, out = {}, {}
        for field, fn in CHECKS.items():
            if field in raw:
                try:
                    out[field] = fn(raw[field])
                except FieldError as exc:
                    errors[field] = str(exc)
        if not errors:
            # Already a customer: the contact belongs on the customer, not on a new lead.
            for field, col, value in (("mobile", Customer.mobile, out.get("mobile")),
                                      ("id_number", Customer.id_number_bidx,
                                       cipher().blind_index(out["id_number"]) if out.get("id_number") else None)):
                if value:
                    hit = db.session.execute(select(Customer.id, Customer.name).where(col == value)).first()
                    if hit:
                        errors[field] = _("Already a customer: %(name)s (#%(id)d). Log the contact on the customer "
                                          "instead.", name=hit.name, id=hit.id)
        if errors:
            raise Invalid(errors)
        if out.get("id_number"):
            out["_bidx"] = cipher().blind_index(out["id_number"])
        return out

    def keys(self, values: dict[str, Any]) -> dict[str, Any]:
        return {"mobile": values.get("mobile"), "id_number": values.get("_bidx")}

    def lookup(self, rows: list[RowResult], key_names: Iterable[str]) -> dict[tuple[str, Any], tuple[int, str]]:
        found: dict[tuple[str, Any], tuple[int, str]] = {}
        for key, col in (("mobile", Lead.mobile), ("id_number", Lead.id_number_bidx)):
            values = {r.keys[key] for r in rows if r.keys.get(key)}
            if key in key_names and values:
                stmt = select(Lead.id, Lead.name, col.label("v")).where(col.in_(values),
                                                                         Lead.status.in_(ACTIVE_STATUSES))
                for row in db.session.execute(stmt):
                    found.setdefault((key, row.v), (row.id, row.name))
        return found

    def insert(self, rows: list[RowResult], actor: Actor) -> None:
        now = utcnow()
        for r in rows:
            lead = Lead(status="new", created_at=now, owner_id=actor.id)
            _apply(lead, {k: v for k, v in r.values.items() if not k.startswith("_")})
            rescore(lead, now)
            db.session.add(lead)
        db.session.flush()

    def update(self, rows: list[RowResult], actor: Actor) -> list[dict[str, Any]]:
        stmt = select(Lead).where(Lead.id.in_([r.target_id for r in rows]))
        if not sees_all_sales(actor):
            stmt = scope_sales(stmt, actor, Lead)
        loaded = {lead.id: lead for lead in db.session.execute(stmt).scalars()}
        diffs = []
        for r in rows:
            lead = loaded.get(r.target_id)
            if lead is None:
                continue  # another salesperson's lead: left alone
            values = {k: v for k, v in r.values.items() if not k.startswith("_")}
            changed = {k: v for k, v in values.items()
                       if (lead.id_number_bidx != r.values.get("_bidx") if k == "id_number" else getattr(lead, k) != v)}
            if changed:
                _apply(lead, changed)
                rescore(lead)
                diffs.append({"row": r.row, "id": lead.id, "after": sorted(changed)})
        db.session.flush()
        return diffs


KIND = LeadKind()
