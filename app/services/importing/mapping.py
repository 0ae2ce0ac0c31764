"""Column mapping: guess file headers → fields (English and Chinese names), saved mappings per kind."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models.import_job import IMPORT_KINDS, ImportMapping
from app.services import audit
from app.services.actor import Actor
from app.services.errors import Invalid, NotFound
from app.services.validation import FieldError, check_text


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: object  # lazy translated label
    aliases: tuple[str, ...] = ()
    required: bool = False
    extra: dict = field(default_factory=dict)


def _norm(header: str) -> str:
    return re.sub(r"[\s_\-()（）:：*]+", "", header or "").lower()


def guess(header: list[str], fields: list[FieldSpec]) -> dict[str, str]:
    """{file header: field} for headers that name a field (its name, label or a known alias)."""
    lookup: dict[str, str] = {}
    for spec in fields:
        for alias in (spec.name, str(spec.label), *spec.aliases):
            lookup.setdefault(_norm(alias), spec.name)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for h in header:
        target = lookup.get(_norm(h))
        if target and target not in taken:
            out[h] = target
            taken.add(target)
    return out


def check_mapping(mapping: dict[str, str], header: list[str], fields: list[FieldSpec]) -> dict[str, str]:
    """The mapping restricted to this file's headers; an unknown field, a field twice or no
    required field at all are errors naming the field."""
    names = {f.name for f in fields}
    out: dict[str, str] = {}
    errors: dict[str, str] = {}
    for h, target in mapping.items():
        if not target or h not in header:
            continue
        if target not in names:
            errors[h] = _("Not a valid choice: %(value)s.", value=target)
        elif target in out.values():
            errors[h] = _("Column %(field)s is mapped twice.", field=target)
        else:
            out[h] = target
    # A file that updates in place may carry only a key and the changed columns, so a missing
    # required field is a per-row error on creation; a file mapping none of them is surely wrong.
    required = [spec for spec in fields if spec.required]
    if required and not any(spec.name in out.values() for spec in required):
        for spec in required:
            errors.setdefault(spec.name, _("Map a column to the required field %(field)s.", field=spec.label))
    if errors:
        raise Invalid(errors)
    return out


def apply(mapping: dict[str, str], header: list[str], row: list[str]) -> dict[str, str]:
    """A file row as {field: text}; only mapped columns appear."""
    return {mapping[h]: row[i] for i, h in enumerate(header) if h in mapping}


# --- saved mappings ------------------------------------------------------------------------------


def saved(kind: str) -> list[ImportMapping]:
    return list(db.session.execute(
        select(ImportMapping).where(ImportMapping.kind == kind).order_by(ImportMapping.name)).scalars())


def load(kind: str, name: str) -> dict[str, str]:
    row = db.session.execute(select(ImportMapping).where(ImportMapping.kind == kind,
                                                         ImportMapping.name == name)).scalar_one_or_none()
    if row is None:
        raise NotFound(_("No saved mapping named %(name)s.", name=name))
    return json.loads(row.columns)


def save(kind: str, name: str, columns: dict[str, str], actor: Actor) -> ImportMapping:
    """Create or replace the named mapping of this kind."""
    if kind not in IMPORT_KINDS:
        raise Invalid({"kind": _("Not a valid choice: %(value)s.", value=kind)})
    try:
        name = check_text(name, 64) or ""
    except FieldError as exc:
        raise Invalid({"mapping_name": str(exc)}) from None
    if not name:
        raise Invalid({"mapping_name": _("This field is required.")})
    row = db.session.execute(select(ImportMapping).where(ImportMapping.kind == kind,
                                                         ImportMapping.name == name)).scalar_one_or_none()
    if row is None:
        row = ImportMapping(kind=kind, name=name, created_by_id=actor.id, columns="{}")
        db.session.add(row)
    row.columns = json.dumps(columns, ensure_ascii=False)
    db.session.flush()
    audit.record(actor, "save", "import_mapping", row.id, {"after": {"kind": kind, "name": name}})
    db.session.commit()
    return row
