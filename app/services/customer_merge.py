"""Customer merge (客户合并, issue 8.5): two duplicate customers become one, field by field.

Every record that points at the merged customer moves to the survivor. Which records those are is
read from the schema itself (every foreign key to `customer.id` in FAB's `Model.metadata`), so a
table added later is covered without touching this module. Per table that is one UPDATE, after
rows that would break a unique key have been resolved:

* the survivor's row is kept and the merged customer's row is removed, after whatever points at
  that row has itself been moved to the survivor's row (the same procedure, one level down);
* bills (one per customer and month) are folded instead of dropped: the merged bill's amounts are
  added to the survivor's bill of that month and its lines and payments move with them, so no
  money disappears. Other conflicting rows are derived or per-occurrence data (churn score,
  segment snapshot, a care task or outbox message of the same occurrence, a tag already on the
  survivor) where the survivor's row is the one to keep.

The merged customer row is then deleted (search, lists and the unique ID number / mobile see one
customer) and a `CustomerAlias(old_id → survivor_id)` row keeps old links working.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_appbuilder import Model
from flask_babel import gettext as _
from sqlalchemy import Column, Table, and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.base import utcnow
from app.models.business_change import BusinessChange
from app.models.customer import Customer
from app.models.customer_alias import CustomerAlias
from app.security.access import scope_customers
from app.services import audit, customers
from app.services.actor import Actor
from app.services.care import business_date
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.validation import check_id

# The contract's customer fields a merge chooses between (`owner` is the `owner_id` column).
FIELDS = (
    "name", "gender", "birth_date", "id_number", "mobile", "landline", "email", "address", "city",
    "segment", "owner_id", "department_id", "status", "consent_marketing", "consent_analytics",
)
SIDES = ("survivor", "merged")
# Merging sees both records in full and rewrites history: back-office roles that see every
# customer. Sales are owner-scoped and never merge (a duplicate they find goes to a clerk).
MERGE_ROLES = ("Admin", "Manager", "Clerk")
MERGE_PERMISSION = ("can_change", "CustomerMergeView")


@dataclass
class TablePlan:
    """What a merge does to one referencing table (per foreign-key column)."""

    table: str
    column: str
    rows: int = 0  # rows of the merged customer
    conflicts: int = 0  # of those, rows whose unique key the survivor already holds

    @property
    def moved(self) -> int:
        return self.rows - self.conflicts


@dataclass
class MergeResult:
    survivor: Customer
    merged_id: int
    tables: list[TablePlan] = field(default_factory=list)
    changed: dict[str, Any] = field(default_factory=dict)


# --- schema discovery ---------------------------------------------------------------------------

def _metadata() -> Any:
    import app.models  # noqa: F401 - every model registered on FAB's metadata

    return Model.metadata


def references_to(target: Table) -> list[tuple[Table, Column]]:
    """(table, column) of every foreign key pointing at `target`'s single-column primary key."""
    pk = list(target.primary_key.columns)
    if len(pk) != 1:
        return []
    out = []
    for table in _metadata().sorted_tables:
        for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
            if fk.column.table is target and fk.column.name == pk[0].name:
                out.append((table, fk.parent))
    return out


def customer_references() -> list[tuple[Table, Column]]:
    return references_to(Customer.__table__)


def _unique_keys(table: Table, column: Column) -> list[list[Column]]:
    """Every unique key of `table` (primary key, unique constraint or index) containing `column`."""
    keys: list[list[Column]] = []
    candidates = [list(table.primary_key.columns)]
    candidates += [list(c.columns) for c in table.constraints if c.__class__.__name__ == "UniqueConstraint"]
    candidates += [list(ix.columns) for ix in table.indexes if ix.unique]
    if column.unique:
        candidates.append([column])
    for cols in candidates:
        names = [c.name for c in cols]
        if column.name in names and names not in [[c.name for c in k] for k in keys]:
            keys.append(cols)
    return keys


def _conflicts(table: Table, column: Column, old: Any, new: Any) -> list[tuple[tuple, tuple]]:
    """Pairs (merged row's primary key, survivor row's primary key) that share a unique key."""
    pairs: list[tuple[tuple, tuple]] = []
    pk_names = [c.name for c in table.primary_key.columns]
    for key in _unique_keys(table, column):
        m, s = table.alias("m"), table.alias("s")
        # Equal non-key columns; NULLs never collide (SQL equality), as in the unique index itself.
        same = [s.c[c.name] == m.c[c.name] for c in key if c.name != column.name]
        stmt = (select(*[m.c[n] for n in pk_names], *[s.c[n] for n in pk_names])
                .select_from(m.join(s, and_(s.c[column.name] == new, *same)))
                .where(m.c[column.name] == old))
        for row in db.session.execute(stmt):
            pair = (tuple(row[:len(pk_names)]), tuple(row[len(pk_names):]))
            if pair not in pairs and pair[0] not in [p[0] for p in pairs]:
                pairs.append(pair)
    return pairs


def _fold_bill(table: Table, survivor_pk: tuple, merged_pk: tuple) -> None:
    """The same month billed twice (one person, two records): one bill with both amounts."""
    money = ("base_fee", "vas_fee", "voice_overage", "data_overage", "other_fee", "total", "paid_amount")
    merged = db.session.execute(select(*[table.c[c] for c in money], table.c.due_date)
                                .where(table.c.id == merged_pk[0])).one()
    row = db.session.execute(select(*[table.c[c] for c in money], table.c.due_date)
                             .where(table.c.id == survivor_pk[0])).one()
    sums = {c: getattr(row, c) + getattr(merged, c) for c in money}
    status = "paid" if sums["paid_amount"] >= sums["total"] else ("partial" if sums["paid_amount"] > 0 else "unpaid")
    # The earlier due date: the merged record's debt was already due then.
    db.session.execute(update(table).where(table.c.id == survivor_pk[0]).values(
        **sums, status=status, due_date=min(row.due_date, merged.due_date)))


# Tables whose conflicting rows are combined into the survivor's row before the merged one goes.
FOLD: dict[str, Callable[[Table, tuple, tuple], None]] = {"bill": _fold_bill}


def _move(target: Table, old: Any, new: Any, plans: list[TablePlan] | None = None) -> None:
    """Re-point every reference to row `old` of `target` at row `new` (conflicts resolved first)."""
    for table, column in references_to(target):
        plan = TablePlan(table.name, column.name)
        plan.rows = db.session.execute(
            select(func.count()).select_from(table).where(column == old)).scalar_one()
        if plan.rows:
            pk_cols = list(table.primary_key.columns)
            for merged_pk, survivor_pk in _conflicts(table, column, old, new):
                if len(pk_cols) == 1:
                    _move(table, merged_pk[0], survivor_pk[0])  # its dependants go to the kept row
                if table.name in FOLD:
                    FOLD[table.name](table, survivor_pk, merged_pk)
                match = [c == v for c, v in zip(pk_cols, merged_pk, strict=True)]
                db.session.execute(delete(table).where(and_(*match)))
                plan.conflicts += 1
            db.session.execute(update(table).where(column == old).values({column.name: new}))
        if plans is not None:
            plans.append(plan)


# --- reading ------------------------------------------------------------------------------------

def may_merge(actor: Actor) -> bool:
    return actor.has_role(*MERGE_ROLES)


def get_customer(customer_id: Any, actor: Actor) -> Customer:
    if check_id(customer_id) is None:
        raise NotFound()
    return customers.get(int(customer_id), actor)


def plan(survivor_id: Any, merged_id: Any, actor: Actor) -> list[TablePlan]:
    """Per referencing table: how many rows of the merged customer move and how many collide.
    Read-only (the confirmation page shows it)."""
    survivor, merged = load_pair(survivor_id, merged_id, actor)
    out = []
    for table, column in customer_references():
        p = TablePlan(table.name, column.name)
        p.rows = db.session.execute(
            select(func.count()).select_from(table).where(column == merged.id)).scalar_one()
        if p.rows:
            p.conflicts = len(_conflicts(table, column, merged.id, survivor.id))
        out.append(p)
    return out


def resolve_alias(old_id: Any, actor: Actor) -> int | None:
    """The customer a merged id now lives on, if the actor may see it; else None."""
    if check_id(old_id) is None:
        return None
    survivor_id = db.session.execute(
        select(CustomerAlias.survivor_id).where(CustomerAlias.old_id == int(old_id))).scalar()
    if survivor_id is None:
        return None
    visible = db.session.execute(
        scope_customers(select(Customer.id).where(Customer.id == survivor_id), actor)).scalar()
    return visible


def candidates(query: str, exclude_id: int, actor: Actor, limit: int = 20) -> list[Customer]:
    """Customers to merge with, found like the quick search: full resident ID (blind index), full
    or leading mobile digits, else part of the name. Only rows the actor may see."""
    q = (query or "").strip()
    compact = re.sub(r"[\s-]", "", q)
    if not q:
        return []
    stmt = select(Customer)
    if re.fullmatch(r"\d{17}[\dXx]", compact):
        stmt = stmt.where(Customer.id_number == compact)
    elif re.fullmatch(r"1\d{10}", compact):
        stmt = stmt.where(Customer.mobile == compact)
    elif re.fullmatch(r"\d{3,10}", compact):
        stmt = stmt.where(Customer.mobile.startswith(compact))
    elif compact.isdigit():
        return []
    else:
        stmt = stmt.where(Customer.name.contains(q, autoescape=True))
    stmt = scope_customers(stmt.where(Customer.id != exclude_id), actor).order_by(Customer.id).limit(limit)
    return list(db.session.execute(stmt).scalars())


def load_pair(survivor_id: Any, merged_id: Any, actor: Actor) -> tuple[Customer, Customer]:
    if not may_merge(actor):
        raise Forbidden(_("Your role may not merge customers."))
    survivor = get_customer(survivor_id, actor)
    merged = get_customer(merged_id, actor)
    if survivor.id == merged.id:
        raise Invalid({"merged_id": _("Choose two different customers to merge.")})
    return survivor, merged


def _version(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Invalid({name: _("Not a valid version: %(value)s.", value=value)}) from None


def _clean_choices(choices: dict[str, Any] | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    out = {f: "survivor" for f in FIELDS}
    for name, side in (choices or {}).items():
        if name not in FIELDS:
            errors[name] = _("Unknown field.")
        elif side not in SIDES:
            errors[name] = _("Not a valid choice: %(value)s.", value=side)
        else:
            out[name] = side
    if errors:
        raise Invalid(errors)
    return out


def _value(customer: Customer, name: str) -> Any:
    if name == "id_number":
        return customers.reveal_value(customer)
    return getattr(customer, name)


# --- the merge ----------------------------------------------------------------------------------

def merge(survivor_id: Any, merged_id: Any, choices: dict[str, Any] | None, actor: Actor,
          version_survivor: Any = None, version_merged: Any = None) -> MergeResult:
    """Merge customer `merged_id` into `survivor_id` in one transaction.

    `choices` maps a field of FIELDS to "survivor" (default) or "merged". The versions are what
    the user looked at: a record changed since is a Conflict, and nothing is written.
    """
    survivor, merged = load_pair(survivor_id, merged_id, actor)
    sides = _clean_choices(choices)
    # Both rows locked for this transaction (PostgreSQL; SQLite serialises writers anyway): a
    # concurrent edit or merge of either waits, and the versions below are the current ones.
    db.session.execute(select(Customer).where(Customer.id.in_([survivor.id, merged.id]))
                       .with_for_update().execution_options(populate_existing=True)).all()
    vs, vm = _version(version_survivor, "version_survivor"), _version(version_merged, "version_merged")
    if (vs is not None and vs != survivor.version) or (vm is not None and vm != merged.version):
        raise Conflict()

    # Values taken from the merged record, read before it goes (the ID number in clear, to be
    # re-encrypted on the survivor: ciphertext, blind index and masked copy always move together).
    values = {f: _value(merged, f) for f in FIELDS if sides[f] == "merged"}
    if "id_number" in values:
        # Birth date and gender follow the chosen ID number (they are derived from it) unless the
        # user explicitly kept the survivor's: those are then checked against it, not replaced.
        for f in ("birth_date", "gender"):
            if (choices or {}).get(f) == "survivor":
                values.setdefault(f, getattr(survivor, f))
    if survivor.plan_id is None and merged.plan_id is not None:
        values["plan_id"] = merged.plan_id  # the current main plan follows the moved subscriptions
    old_merged_version = merged.version
    merged_pk = merged.id

    tables: list[TablePlan] = []
    try:
        _move(Customer.__table__, merged_pk, survivor.id, tables)
        # Delete the merged row before giving its ID number / mobile to the survivor (unique columns).
        db.session.expunge(merged)
        gone = db.session.execute(delete(Customer.__table__).where(
            Customer.__table__.c.id == merged_pk, Customer.__table__.c.version == old_merged_version))
    except IntegrityError:
        # A related row written concurrently (e.g. a new bill for the merged id) — nothing merged.
        db.session.rollback()
        raise Conflict() from None
    if gone.rowcount != 1:
        db.session.rollback()
        raise Conflict()
    plan_id = values.pop("plan_id", None)
    # The house validation of customer fields (formats, uniqueness, ID ↔ birth date / gender).
    cleaned = customers._clean(values, survivor)  # noqa: SLF001 - the one validator of customer fields
    before = customers._snapshot(survivor, list(cleaned))  # noqa: SLF001
    changed = {}
    for name, value in cleaned.items():
        old = customers.reveal_value(survivor) if name == "id_number" else getattr(survivor, name)
        if old != value:
            changed[name] = value
    customers._apply(survivor, changed)  # noqa: SLF001
    if plan_id is not None:
        survivor.plan_id = plan_id
    # Always bump the survivor's version: an editor holding it must reload the merged record.
    survivor.updated_at = utcnow()
    after = customers._snapshot(survivor, list(changed))  # noqa: SLF001
    before = {k: v for k, v in before.items() if k in changed}
    after["merged_from"] = f"#{merged_pk}"

    db.session.add(CustomerAlias(old_id=merged_pk, survivor_id=survivor.id, merged_by_id=actor.id))
    db.session.add(BusinessChange(
        customer_id=survivor.id,
        change_type="merge",
        before=json.dumps(before, ensure_ascii=False),
        after=json.dumps(after, ensure_ascii=False),
        effective_date=business_date(utcnow()),
        operator_id=actor.id,
        reason=f"#{merged_pk} → #{survivor.id}",
    ))
    moved = {f"{p.table}.{p.column}": {"moved": p.moved, "conflicts": p.conflicts} for p in tables if p.rows}
    audit.record(actor, "merge", "customer", survivor.id, {
        "survivor_id": survivor.id, "merged_id": merged_pk, "choices": sides,
        "before": before, "after": after, "records": moved,
    })
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict() from None
    return MergeResult(survivor=survivor, merged_id=merged_pk, tables=tables, changed=changed)
