"""Customer import: the field rules of `customers._clean`, duplicates by ID number (blind index),
mobile or name + birth date, set-based INSERT for new rows, update in place for matched ones.

Update in place changes only the mapped, non-blank columns; the customer keeps its id, its
subscriptions, bills and history. Each updated customer gets a `profile_update` business change
(so its 360 history shows the import) and the run record keeps the per-row diff; the audit log
gets one entry per run (written by the runner) rather than one per row.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, tuple_
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models.base import utcnow
from app.models.business_change import BusinessChange
from app.models.customer import GENDERS, SEGMENTS, STATUSES, Customer
from app.models.user import CrmUser
from app.security.access import scope_customers
from app.services.actor import Actor
from app.services.care import business_date
from app.services.crypto import cipher
from app.services.customers import _apply, _snapshot, reveal_value
from app.services.errors import Invalid
from app.services.importing.mapping import FieldSpec
from app.services.importing.runner import Kind, RowResult
from app.services.masking import is_masked, mask_id_number
from app.services.validation import (
    FieldError,
    check_bool,
    check_choice,
    check_date,
    check_email,
    check_id_number,
    check_landline,
    check_language,
    check_mobile,
    check_name,
    check_text,
    id_birth_date,
    id_gender,
    mobile_carrier,
)

_GENDER_WORDS = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}

FIELDS = [
    FieldSpec("name", _l("Name"), ("姓名", "客户姓名", "客户名称", "名字", "customer name", "full name"),
              required=True),
    FieldSpec("id_number", _l("Resident ID number"),
              ("身份证号", "身份证", "身份证号码", "证件号码", "证件号", "id", "idno", "id number", "id_no"),
              required=True),
    FieldSpec("mobile", _l("Mobile"), ("手机号", "手机", "手机号码", "移动电话", "联系电话", "phone", "mobile phone",
                                       "cell"), required=True),
    FieldSpec("gender", _l("Gender"), ("性别", "sex")),
    FieldSpec("birth_date", _l("Birth date"), ("出生日期", "生日", "birthday", "date of birth", "dob")),
    FieldSpec("landline", _l("Landline"), ("固定电话", "座机", "固话", "tel")),
    FieldSpec("email", _l("Email"), ("邮箱", "电子邮箱", "电子邮件", "e-mail", "mail")),
    FieldSpec("address", _l("Address"), ("地址", "住址", "联系地址")),
    FieldSpec("city", _l("City"), ("城市", "所在城市", "地市")),
    FieldSpec("segment", _l("Segment"), ("客户分群", "分群", "客户等级")),
    FieldSpec("status", _l("Status"), ("状态", "客户状态")),
    FieldSpec("owner", _l("Owner (salesperson)"), ("客户经理", "负责人", "销售", "owner_username", "owner")),
    FieldSpec("consent_marketing", _l("Marketing consent"), ("营销同意", "同意营销")),
    FieldSpec("language", _l("Message language"), ("语言", "语种", "消息语言", "首选语言", "lang",
                                                   "preferred language")),
]
CHECKS = {
    "name": check_name,
    "id_number": check_id_number,
    "landline": check_landline,
    "email": check_email,
    "birth_date": check_date,
    "address": lambda v: check_text(v, 255),
    "city": lambda v: check_text(v, 32),
    "segment": lambda v: check_choice(v, SEGMENTS),
    "status": lambda v: check_choice(v, STATUSES),
    "consent_marketing": check_bool,
    "language": check_language,
}


class CustomerKind(Kind):
    name = "customers"
    entity = "customer"
    fields = FIELDS
    match_options = ("id_number", "mobile", "name_birth")
    default_match = ("id_number", "mobile")
    unique_keys = ("id_number", "mobile")
    key_columns = {"id_number": "id_number", "mobile": "mobile", "name_birth": "name"}

    def __init__(self) -> None:
        self._owners: dict[str, int | None] = {}
        self._segments_ok: set[str] = set()
        self._carriers: dict[str, str] = {}
        self._cipher: Any = None

    def begin(self) -> None:
        self._owners: dict[str, int | None] = {}
        # Whether a mobile is valid and which carrier it belongs to depend only on its number
        # segment (phonenumbers' CN patterns look at most 5 digits deep), so a 100,000-row file
        # asks phonenumbers once per 7-digit segment instead of twice per row.
        self._segments_ok: set[str] = set()
        self._carriers: dict[str, str] = {}
        self._cipher = cipher()  # the app's key, fetched once per run

    def _mobile(self, value: str) -> str:
        raw = re.sub(r"[\s-]", "", value)
        raw = raw[3:] if raw.startswith("+86") else raw
        if len(raw) == 11 and raw.isdigit() and raw[:7] in self._segments_ok:
            return raw
        out = check_mobile(value)
        self._segments_ok.add(out[:7])
        return out

    def carrier(self, mobile: str) -> str:
        segment = mobile[:7]
        if segment not in self._carriers:
            self._carriers[segment] = mobile_carrier(mobile)
        return self._carriers[segment]

    def _owner(self, username: str) -> int | None:
        if username not in self._owners:
            self._owners[username] = db.session.execute(
                select(CrmUser.id).where(CrmUser.username == username)).scalar()
        return self._owners[username]

    def clean(self, raw: dict[str, str], actor: Actor) -> dict[str, Any]:
        """The rules of `customers._clean` for the given cells (uniqueness is the runner's lookup)."""
        errors: dict[str, str] = {}
        out: dict[str, Any] = {}
        for field in ("id_number", "mobile"):
            if field in raw and is_masked(raw[field]):
                errors[field] = _("Enter the full value, not a masked one.")
        for field, fn in CHECKS.items():
            if field in raw and field not in errors:
                try:
                    out[field] = fn(raw[field])
                except FieldError as exc:
                    errors[field] = str(exc)
        if "mobile" in raw and "mobile" not in errors:
            try:
                out["mobile"] = self._mobile(raw["mobile"])
            except FieldError as exc:
                errors["mobile"] = str(exc)
        if "gender" in raw:
            value = _GENDER_WORDS.get(raw["gender"].strip().lower(), raw["gender"].strip().upper())
            try:
                out["gender"] = check_choice(value, GENDERS)
            except FieldError as exc:
                errors["gender"] = str(exc)
        if "owner" in raw:
            owner_id = self._owner(raw["owner"].strip())
            if owner_id is None:
                errors["owner"] = _("No user named %(name)s.", name=raw["owner"])
            else:
                out["owner_id"] = owner_id
        # Birth date and gender must agree with the resident ID; derived from it when blank.
        if out.get("id_number"):
            # check_id_number has validated the date; reading it again through stdnum costs per row.
            ident = out["id_number"]
            born, sex = dt.date(int(ident[6:10]), int(ident[10:12]), int(ident[12:14])), id_gender(ident)
            if out.get("birth_date") and out["birth_date"] != born and "birth_date" not in errors:
                errors["birth_date"] = _("Birth date does not match the resident ID number (%(date)s).",
                                         date=born.isoformat())
            if out.get("gender") and out["gender"] != sex and "gender" not in errors:
                errors["gender"] = _("Gender does not match the resident ID number.")
            out["birth_date"], out["gender"] = born, sex
            out["_bidx"] = self._cipher.blind_index(out["id_number"])
        if errors:
            raise Invalid(errors)
        return out

    def keys(self, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "id_number": values.get("_bidx"),
            "mobile": values.get("mobile"),
            "name_birth": (values["name"], values["birth_date"]) if values.get("name") and values.get("birth_date")
            else None,
        }

    def lookup(self, rows: list[RowResult], key_names: Iterable[str]) -> dict[tuple[str, Any], tuple[int, str]]:
        found: dict[tuple[str, Any], tuple[int, str]] = {}
        key_names = set(key_names)
        bidxs = {r.keys["id_number"] for r in rows if r.keys.get("id_number")}
        if "id_number" in key_names and bidxs:
            for row in db.session.execute(select(Customer.id, Customer.name, Customer.id_number_bidx)
                                          .where(Customer.id_number_bidx.in_(bidxs))):
                found[("id_number", row.id_number_bidx)] = (row.id, row.name)
        mobiles = {r.keys["mobile"] for r in rows if r.keys.get("mobile")}
        if "mobile" in key_names and mobiles:
            for row in db.session.execute(select(Customer.id, Customer.name, Customer.mobile)
                                          .where(Customer.mobile.in_(mobiles))):
                found[("mobile", row.mobile)] = (row.id, row.name)
        pairs = {r.keys["name_birth"] for r in rows if r.keys.get("name_birth")}
        if "name_birth" in key_names and pairs:
            stmt = (select(Customer.id, Customer.name, Customer.birth_date)
                    .where(tuple_(Customer.name, Customer.birth_date).in_(list(pairs))).order_by(Customer.id))
            for row in db.session.execute(stmt):
                found.setdefault(("name_birth", (row.name, row.birth_date)), (row.id, row.name))
        return found

    def check_update(self, target_id: int, values: dict[str, Any]) -> dict[str, str]:
        if "id_number" in values or not ({"birth_date", "gender"} & set(values)):
            return {}
        # Birth date or gender without an ID number must agree with the stored ID.
        customer = db.session.get(Customer, target_id)
        stored = reveal_value(customer)
        errors = {}
        if values.get("birth_date") and values["birth_date"] != id_birth_date(stored):
            errors["birth_date"] = _("Birth date does not match the resident ID number (%(date)s).",
                                     date=id_birth_date(stored).isoformat())
        if values.get("gender") and values["gender"] != id_gender(stored):
            errors["gender"] = _("Gender does not match the resident ID number.")
        return errors

    def insert(self, rows: list[RowResult], actor: Actor) -> None:
        """One set-based write per batch (COPY on PostgreSQL, executemany INSERT elsewhere), the ID
        number encrypted per row."""
        c = self._cipher
        now = utcnow()
        sales_owner = actor.id if actor.has_role("Sales") and not actor.has_role("Admin", "Manager", "Clerk") else None
        records = []
        for r in rows:
            v = r.values
            records.append({
                "name": v["name"], "gender": v.get("gender"), "birth_date": v.get("birth_date"),
                "id_number_enc": c.encrypt(v["id_number"], b"customer.id_number"),
                "id_number_bidx": v["_bidx"], "id_number_masked": mask_id_number(v["id_number"]),
                "mobile": v["mobile"], "carrier": self.carrier(v["mobile"]),
                "landline": v.get("landline"), "email": v.get("email"), "address": v.get("address"),
                "city": v.get("city"), "segment": v.get("segment") or "ordinary", "status": v.get("status") or "active",
                "owner_id": sales_owner or v.get("owner_id"), "consent_marketing": bool(v.get("consent_marketing")),
                "consent_analytics": False, "language": v.get("language") or "zh", "at_risk": False,
                "version": 1, "created_at": now, "updated_at": now,
            })
        conn = db.session.connection()
        if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
            # COPY is PostgreSQL's bulk path: several times faster than a multi-row INSERT here.
            import psycopg

            columns = list(records[0])
            sql = f"COPY customer ({', '.join(columns)}) FROM STDIN"  # nosec B608 - this module's column names
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                with cursor.copy(sql) as copy:
                    for rec in records:
                        copy.write_row([rec[c] for c in columns])
            except psycopg.Error as exc:
                # As SQLAlchemy would report it, so the runner rolls back just this batch.
                raise DBAPIError(sql, None, exc) from exc
        else:
            db.session.execute(insert(Customer.__table__), records)

    def update(self, rows: list[RowResult], actor: Actor) -> list[dict[str, Any]]:
        ids = [r.target_id for r in rows]
        stmt = scope_customers(select(Customer).where(Customer.id.in_(ids)), actor)
        loaded = {c.id: c for c in db.session.execute(stmt).scalars()}
        today = business_date(utcnow())
        diffs = []
        for r in rows:
            customer = loaded.get(r.target_id)
            if customer is None:
                continue  # outside the actor's rows: never updated (the lookup is global for uniqueness)
            values = {k: v for k, v in r.values.items() if not k.startswith("_")}
            changed = {}
            for field, value in values.items():
                old = customer.id_number_bidx if field == "id_number" else getattr(customer, field)
                new = r.values["_bidx"] if field == "id_number" else value
                if old != new:
                    changed[field] = value
            if not changed:
                continue
            before = _snapshot(customer, list(changed))
            _apply(customer, changed)
            after = _snapshot(customer, list(changed))
            db.session.add(BusinessChange(
                customer_id=customer.id, change_type="profile_update",
                before=json.dumps(before, ensure_ascii=False), after=json.dumps(after, ensure_ascii=False),
                effective_date=today, operator_id=actor.id))
            diffs.append({"row": r.row, "id": customer.id, "before": before, "after": after})
        db.session.flush()
        return diffs


KIND = CustomerKind()
