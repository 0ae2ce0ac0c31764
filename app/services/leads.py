"""Leads (线索): entry with duplicate check, priority score, status, owner, conversion."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from app.extensions import db
from app.models.base import utcnow
from app.models.customer import Customer
from app.models.lead import LEAD_SOURCES, LEAD_STATUSES, Lead
from app.models.opportunity import Opportunity
from app.models.plan import Plan
from app.models.user import CrmUser
from app.security.access import scope_customers, scope_sales, sees_all_sales
from app.services import audit, customers
from app.services.actor import Actor
from app.services.crypto import cipher
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.masking import is_masked, mask_id_number, mask_mobile
from app.services.sales import SOURCE_LABELS, one_transaction, with_ids
from app.services.validation import (
    FieldError,
    check_choice,
    check_email,
    check_id,
    check_id_number,
    check_mobile,
    check_name,
    check_text,
    check_version,
)

EDITABLE = ("name", "mobile", "id_number", "email", "city", "source", "interest_plan_id", "interest", "notes",
            "owner_id")
ACTIVE_STATUSES = ("new", "contacted", "qualified")
# Allowed manual status moves; "converted" only through `convert`.
STATUS_MOVES = {
    "new": ("contacted", "qualified", "disqualified"),
    "contacted": ("qualified", "disqualified"),
    "qualified": ("contacted", "disqualified"),
    "disqualified": ("new",),
    "converted": (),
}

# --- priority score: source + interest + recency, each part explained -----------------------------
SOURCE_POINTS = {"walk_in": 30, "partner": 30, "hotline": 25, "website": 20, "campaign": 15, "social": 10}
PLAN_INTEREST_POINTS = 25
TEXT_INTEREST_POINTS = 10
RECENCY_POINTS = ((1, 30), (3, 25), (7, 15), (30, 5))  # (within N days, points)


@dataclass(frozen=True)
class ScorePart:
    label: str
    points: int


def score_parts(lead: Lead, now: dt.datetime | None = None) -> list[ScorePart]:
    now = now or utcnow()
    parts = [ScorePart(_("Source: %(source)s", source=SOURCE_LABELS.get(lead.source, lead.source)),
                       SOURCE_POINTS.get(lead.source, 0))]
    if lead.interest_plan_id:
        plan = lead.interest_plan or db.session.get(Plan, lead.interest_plan_id)
        parts.append(ScorePart(_("Interested in plan %(plan)s", plan=plan.name if plan else "?"), PLAN_INTEREST_POINTS))
    elif lead.interest:
        parts.append(ScorePart(_("Stated interest: %(text)s", text=lead.interest), TEXT_INTEREST_POINTS))
    else:
        parts.append(ScorePart(_("No stated interest"), 0))
    last = lead.last_activity_at or lead.created_at or now
    days = max((now - last).days, 0)
    points = next((p for limit, p in RECENCY_POINTS if days <= limit), 0)
    parts.append(ScorePart(_("Last activity %(n)d day(s) ago", n=days), points))
    return parts


def score(lead: Lead, now: dt.datetime | None = None) -> int:
    return sum(p.points for p in score_parts(lead, now))


def explain(lead: Lead, now: dt.datetime | None = None) -> str:
    parts = score_parts(lead, now)
    text = "; ".join(f"{p.label} +{p.points}" for p in parts)
    return _("%(parts)s = %(total)d", parts=text, total=sum(p.points for p in parts))


def rescore(lead: Lead, now: dt.datetime | None = None) -> None:
    lead.priority_score = score(lead, now)


def rescore_all(now: dt.datetime | None = None) -> int:
    """Refresh every open lead's stored score in one set-based UPDATE (recency points fade with time;
    the list is sorted by the stored score). Returns how many scores changed."""
    from sqlalchemy import case, func, literal, update

    now = now or utcnow()
    last = func.coalesce(Lead.last_activity_at, Lead.created_at)
    source = case(*[(Lead.source == k, v) for k, v in SOURCE_POINTS.items()], else_=0)
    interest = case((Lead.interest_plan_id.is_not(None), PLAN_INTEREST_POINTS),
                    ((Lead.interest.is_not(None)) & (Lead.interest != ""), TEXT_INTEREST_POINTS), else_=0)
    # "within N days" as in `score_parts`: whole days since the last activity <= N.
    recency = case(*[(last > now - dt.timedelta(days=limit + 1), literal(points)) for limit, points in RECENCY_POINTS],
                   else_=0)
    total = source + interest + recency
    result = db.session.execute(
        update(Lead).where(Lead.status.in_(ACTIVE_STATUSES), Lead.priority_score != total)
        .values(priority_score=total).execution_options(synchronize_session=False))
    db.session.commit()
    return max(result.rowcount or 0, 0)


# --- look-ups -------------------------------------------------------------------------------------


def get(lead_id: Any, actor: Actor) -> Lead:
    pk = check_id(lead_id)
    if pk is None:
        raise NotFound()
    lead = db.session.execute(scope_sales(select(Lead).where(Lead.id == pk), actor, Lead)).scalar_one_or_none()
    if lead is None:
        raise NotFound()
    return lead


@dataclass(frozen=True)
class Duplicate:
    kind: str  # "lead" or "customer"
    id: int
    name: str
    field: str  # "mobile" or "id_number"


def find_duplicates(mobile: str | None, id_number: str | None, exclude_lead_id: int | None = None) -> list[Duplicate]:
    """Active leads and customers with the same mobile or resident ID (whoever owns them)."""
    found: list[Duplicate] = []
    bidx = cipher().blind_index(id_number) if id_number else None
    for field, value, lead_col, cust_col in (("mobile", mobile, Lead.mobile, Customer.mobile),
                                             ("id_number", bidx, Lead.id_number_bidx, Customer.id_number_bidx)):
        if not value:
            continue
        for row in db.session.execute(select(Customer.id, Customer.name).where(cust_col == value).limit(3)):
            found.append(Duplicate("customer", row.id, row.name, field))
        stmt = select(Lead.id, Lead.name).where(lead_col == value, Lead.status.in_(ACTIVE_STATUSES))
        if exclude_lead_id is not None:
            stmt = stmt.where(Lead.id != exclude_lead_id)
        for row in db.session.execute(stmt.limit(3)):
            found.append(Duplicate("lead", row.id, row.name, field))
    return found


def _duplicate_errors(dups: list[Duplicate]) -> tuple[dict[str, str], dict[str, int]]:
    errors: dict[str, str] = {}
    related: dict[str, int] = {}
    for d in dups:
        if d.field in errors:
            continue
        if d.kind == "customer":
            errors[d.field] = _("Already a customer: %(name)s (#%(id)d). Log the contact on the customer instead.",
                                name=d.name, id=d.id)
            related[d.field] = d.id
        else:
            errors[d.field] = _("Duplicate of open lead %(name)s (#%(id)d).", name=d.name, id=d.id)
    return errors, related


# --- create / update ------------------------------------------------------------------------------


def _clean(data: dict[str, Any], existing: Lead | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    def run(field: str, fn: Any) -> None:
        if field not in data:
            return
        try:
            out[field] = fn(data[field])
        except FieldError as exc:
            errors[field] = str(exc)

    if existing is None:
        for required in ("name", "mobile", "source"):
            if data.get(required) in (None, ""):
                errors[required] = _("This field is required.")
    for field in ("mobile", "id_number"):
        if field in data and is_masked(data.get(field)):  # a masked value sent back changes nothing
            if existing is None:
                errors[field] = _("Enter the full value, not a masked one.")
            data = {k: v for k, v in data.items() if k != field}
    if "id_number" in data and data["id_number"] in (None, ""):
        data = {k: v for k, v in data.items() if k != "id_number"}
    run("name", check_name)
    run("mobile", check_mobile)
    run("id_number", check_id_number)
    run("email", check_email)
    run("city", lambda v: check_text(v, 32))
    run("source", lambda v: check_choice(v, LEAD_SOURCES))
    run("interest", lambda v: check_text(v, 128))
    run("notes", lambda v: check_text(v, 2000))
    if "interest_plan_id" in data:
        if data["interest_plan_id"] in (None, ""):
            out["interest_plan_id"] = None
        else:
            pk = check_id(data["interest_plan_id"])
            if pk is None or db.session.get(Plan, pk) is None:
                errors["interest_plan_id"] = _("Not a valid choice: %(value)s.", value=data["interest_plan_id"])
            else:
                out["interest_plan_id"] = pk
    if "owner_id" in data and data["owner_id"] not in (None, ""):
        pk = check_id(data["owner_id"])
        if pk is None or db.session.get(CrmUser, pk) is None:
            errors["owner_id"] = _("Not a valid choice: %(value)s.", value=data["owner_id"])
        else:
            out["owner_id"] = pk
    elif "owner_id" in data:
        out["owner_id"] = None
    if not errors and ("mobile" in out or "id_number" in out):
        dup_errors, related = _duplicate_errors(find_duplicates(
            out.get("mobile"), out.get("id_number"), existing.id if existing is not None else None))
        if existing is not None:  # only a changed value can be a new duplicate
            dup_errors = {k: v for k, v in dup_errors.items()
                          if not (k == "mobile" and out.get("mobile") == existing.mobile)}
        if dup_errors:
            raise Invalid(dup_errors, related=related)
    if errors:
        raise Invalid(errors)
    return out


def _apply(lead: Lead, values: dict[str, Any]) -> None:
    for field, value in values.items():
        if field == "id_number":
            c = cipher()
            lead.id_number_enc = c.encrypt(value, b"lead.id_number")
            lead.id_number_bidx = c.blind_index(value)
            lead.id_number_masked = mask_id_number(value)
        else:
            setattr(lead, field, value)


def _snapshot(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "mobile" in out and out["mobile"]:
        out["mobile"] = mask_mobile(out["mobile"])
    if "id_number" in out and out["id_number"]:
        out["id_number"] = mask_id_number(out["id_number"])
    return out


def create(data: dict[str, Any], actor: Actor) -> Lead:
    data = with_ids(data)
    values = _clean({k: v for k, v in data.items() if k in EDITABLE}, None)
    if not sees_all_sales(actor) or not values.get("owner_id"):
        values["owner_id"] = actor.id  # a salesperson's lead is their own
    lead = Lead(status="new")
    _apply(lead, values)
    lead.created_at = utcnow()
    rescore(lead, lead.created_at)
    db.session.add(lead)
    db.session.flush()
    audit.record(actor, "create", "lead", lead.id, {"after": _snapshot(values)})
    db.session.commit()
    return lead



def update(lead_id: Any, data: dict[str, Any], actor: Actor, version: Any = None) -> Lead:
    data = with_ids(data)
    lead = get(lead_id, actor)
    version = check_version(version)
    if version is not None and version != lead.version:
        raise Conflict(current={"status": lead.status, "name": lead.name})
    if "status" in data and data["status"] not in (None, "", lead.status):
        set_status(lead.id, data["status"], data.get("disqualify_reason"), actor, commit=False)
    values = _clean({k: v for k, v in data.items() if k in EDITABLE}, lead)
    if "owner_id" in values and values["owner_id"] != lead.owner_id:
        if not sees_all_sales(actor):
            raise Forbidden(_("Only a manager can reassign an owner."))
        audit.record(actor, "reassign", "lead", lead.id, {"before": {"owner_id": lead.owner_id},
                                                          "after": {"owner_id": values["owner_id"]}})
    elif "owner_id" in values:
        values.pop("owner_id")
    changed = {k: v for k, v in values.items()
               if (lead.id_number_bidx != cipher().blind_index(v) if k == "id_number" else getattr(lead, k) != v)}
    if lead.status == "converted" and set(changed) - {"notes"}:
        raise Invalid({sorted(set(changed) - {"notes"})[0]: _("A converted lead can no longer be changed.")})
    if changed:
        _apply(lead, changed)
        rescore(lead)
        audit.record(actor, "update", "lead", lead.id, {"after": _snapshot(changed)})
    db.session.commit()
    return lead


def set_status(lead_id: Any, status: Any, reason: Any, actor: Actor, commit: bool = True) -> Lead:
    lead = get(lead_id, actor)
    if status not in LEAD_STATUSES:
        raise Invalid({"status": _("Not a valid choice: %(value)s.", value=status)})
    if status not in STATUS_MOVES[lead.status]:
        raise Invalid({"status": _("A lead cannot move from %(old)s to %(new)s.", old=lead.status, new=status)})
    text = None
    if status == "disqualified":
        try:
            text = check_text(reason, 255, required=True)
        except FieldError:
            raise Invalid({"disqualify_reason": _("Give the reason for disqualifying the lead.")}) from None
    before = lead.status
    lead.status = status
    lead.disqualify_reason = text
    audit.record(actor, "status", "lead", lead.id, {"before": {"status": before},
                                                    "after": {"status": status, "reason": text}})
    if commit:
        db.session.commit()
    return lead


def touch(lead: Lead, when: dt.datetime) -> None:
    """A contact was logged: the lead is contacted and its recency points are fresh."""
    lead.last_activity_at = max(lead.last_activity_at or when, when)
    if lead.status == "new":
        lead.status = "contacted"
    rescore(lead)


# --- conversion -----------------------------------------------------------------------------------


def _customer_for(lead: Lead, data: dict[str, Any], actor: Actor) -> tuple[Customer, bool]:
    """The customer to link (asked for, or the same mobile / ID), else a new one: (customer, created)."""
    if data.get("customer_id") not in (None, ""):
        try:
            return customers.get(data["customer_id"], actor), False
        except NotFound:
            raise Invalid({"customer_id": _("Not a valid choice: %(value)s.", value=data["customer_id"])}) from None
    conds = []
    if lead.mobile:
        conds.append(Customer.mobile == lead.mobile)
    if lead.id_number_bidx:
        conds.append(Customer.id_number_bidx == lead.id_number_bidx)
    existing = db.session.execute(select(Customer).where(or_(*conds)).limit(1)).scalar() if conds else None
    if existing is not None:
        mine = scope_customers(select(Customer.id).where(Customer.id == existing.id), actor)
        visible = db.session.execute(mine).first()
        if visible is None:
            raise Invalid({"mobile": _("This person is already a customer of another salesperson; ask a manager.")})
        return existing, False
    id_number = data.get("id_number") or (
        cipher().decrypt(lead.id_number_enc, b"lead.id_number") if lead.id_number_enc else None)
    if not id_number:
        raise Invalid({"id_number": _("The resident ID number is needed to create the customer.")})
    customer = customers.create({"name": lead.name, "mobile": lead.mobile, "id_number": id_number,
                                 "email": lead.email, "city": lead.city}, actor)
    if sees_all_sales(actor) and lead.owner_id and customer.owner_id is None:
        customer.owner_id = lead.owner_id  # the lead's salesperson owns the new customer
    return customer, True


def convert(lead_id: Any, data: dict[str, Any], actor: Actor) -> Opportunity:
    """Create (or link) the customer and open an opportunity, in ONE transaction."""
    from app.services import opportunities

    lead = get(lead_id, actor)
    if lead.status in ("converted", "disqualified"):
        raise Invalid({"status": _("Only an open lead can be converted (this one is %(status)s).",
                                   status=lead.status_label)})
    with one_transaction():
        customer, created = _customer_for(lead, data, actor)
        opp = opportunities.create({
            "customer_id": customer.id,
            "name": data.get("name") or _("%(name)s: %(interest)s", name=lead.name,
                                         interest=(lead.interest_plan.name if lead.interest_plan else
                                                   lead.interest or _("new business"))),
            "expected_revenue": data.get("expected_revenue") or "0",
            "expected_close_date": data.get("expected_close_date"),
            "plan_id": data.get("plan_id") or lead.interest_plan_id,
            "products": data.get("products") or lead.interest,
            "owner_id": lead.owner_id,
        }, actor, lead_id=lead.id)
        lead.status = "converted"
        lead.customer_id = customer.id
        lead.converted_at = utcnow()
        lead.created_customer = created
        audit.record(actor, "convert", "lead", lead.id,
                     {"after": {"customer_id": customer.id, "opportunity_id": opp.id, "new_customer": created}})
    return opp


LEAD_LABELS = {
    "id": _l("Lead No."), "name": _l("Name"), "mobile": _l("Mobile"), "mobile_masked": _l("Mobile"),
    "id_number": _l("Resident ID number"), "id_number_masked": _l("Resident ID number"), "email": _l("Email"),
    "city": _l("City"), "source": _l("Source"), "source_label": _l("Source"), "interest_plan": _l("Interested plan"),
    "interest": _l("Interest (product)"), "notes": _l("Notes"), "owner": _l("Owner (salesperson)"),
    "status": _l("Status"), "status_label": _l("Status"), "disqualify_reason": _l("Disqualification reason"),
    "priority_score": _l("Priority"), "last_activity_at": _l("Last activity"), "customer": _l("Customer"),
    "converted_at": _l("Converted at"), "created_at": _l("Created at"),
}


# --- import (CSV / XLSX) with the same validation and duplicate check as entry --------------------

IMPORT_FIELDS = ("name", "mobile", "id_number", "email", "city", "source", "interest", "notes")
IMPORT_MAX_ROWS = 5000


@dataclass
class ImportReport:
    rows: int = 0
    valid: int = 0
    created: int = 0
    dry_run: bool = False
    # (row number in the file, field → messages)
    errors: list[tuple[int, dict[str, list[str]]]] = dataclasses.field(default_factory=list)


def _read_rows(filename: str, data: bytes) -> list[dict[str, Any]]:
    import csv
    import io

    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
            values = [[("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)]
        except Exception:  # noqa: BLE001 - any unreadable workbook is the user's file problem
            raise Invalid({"file": _("The file is not a readable XLSX workbook.")}) from None
    elif name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid({"file": _("The CSV file must be UTF-8 encoded.")}) from None
        values = list(csv.reader(io.StringIO(text)))
    else:
        raise Invalid({"file": _("Upload a .csv or .xlsx file.")})
    if not values:
        raise Invalid({"file": _("The file is empty.")})
    header = [h.strip().lower() for h in values[0]]
    unknown = [h for h in header if h and h not in IMPORT_FIELDS]
    if unknown or "name" not in header or "mobile" not in header or "source" not in header:
        raise Invalid({"file": _("The first row must name the columns: %(cols)s (name, mobile and source required).",
                                 cols=", ".join(IMPORT_FIELDS))})
    rows = [dict(zip(header, r, strict=False)) for r in values[1:] if any(str(c).strip() for c in r)]
    if len(rows) > IMPORT_MAX_ROWS:
        raise Invalid({"file": _("At most %(n)d rows per file.", n=IMPORT_MAX_ROWS)})
    return rows


def import_file(filename: str, data: bytes, actor: Actor, dry_run: bool = False) -> ImportReport:
    """Validate every row like entry (shared validators, duplicates against leads and customers and
    within the file); write the valid rows in one transaction unless `dry_run`."""
    rows = _read_rows(filename, data)
    report = ImportReport(rows=len(rows), dry_run=dry_run)
    seen: dict[tuple[str, str], int] = {}
    good: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for n, raw in enumerate(rows, start=2):
        data_row = {k: v for k, v in raw.items() if k in IMPORT_FIELDS and str(v).strip() != ""}
        try:
            values = _clean(data_row, None)
        except Invalid as exc:
            report.errors.append((n, exc.errors))
            continue
        clash = {}
        for field in ("mobile", "id_number"):
            if values.get(field):
                key = (field, cipher().blind_index(values[field]) if field == "id_number" else values[field])
                if key in seen:
                    clash[field] = [_("Same as row %(n)d of this file.", n=seen[key])]
                else:
                    seen[key] = n
        if clash:
            report.errors.append((n, clash))
            continue
        good.append((raw, values))
    report.valid = len(good)
    if dry_run or not good:
        return report
    now = utcnow()
    ids = []
    for _raw, values in good:
        values["owner_id"] = actor.id
        lead = Lead(status="new", created_at=now)
        _apply(lead, values)
        rescore(lead, now)
        db.session.add(lead)
        db.session.flush()
        ids.append(lead.id)
    audit.record(actor, "import", "lead", None, {"after": {"created": len(ids), "first_id": ids[0],
                                                           "last_id": ids[-1], "rejected": len(report.errors)}})
    db.session.commit()
    report.created = len(ids)
    return report
