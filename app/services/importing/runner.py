"""One import run: read → map → validate every row → find duplicates → decide → write in batches.

Decisions per row: `create`, `update` (in place, only the mapped columns), `skip` or `error`.
A row that matches an existing record (by the configured keys) follows the file-level policy or
its own per-row choice. Within the file, a later row with the same key as an earlier one is
skipped and reported. Every row is validated before anything is written, so a real run knows
its bad rows up front: a batch holding a bad row is not written at all (the batch "rolls back"
without touching the database), and a database error inside a batch rolls back that batch
only; both are reported with row and column. One audit entry per run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models.base import utcnow
from app.models.import_job import POLICIES, ImportRun
from app.services import audit
from app.services.actor import Actor
from app.services.errors import Invalid
from app.services.importing import mapping as mappings
from app.services.importing.readers import read_table

DEFAULT_BATCH = 1000
# At most this many per-row outcomes are kept for a preview page; counts are always complete.
PREVIEW_ROWS = 2000


@dataclass
class RowResult:
    row: int
    action: str  # create | update | skip | error
    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)
    target_id: int | None = None
    target_label: str | None = None
    match: str | None = None  # which key matched an existing record
    duplicate: bool = False  # matched an existing record (or an earlier row of the file)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, message)
    keys: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    kind: str
    file_name: str
    dry_run: bool
    policy: str
    match: tuple[str, ...]
    mapping: dict[str, str]
    total: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, message)
    rows: list[RowResult] = field(default_factory=list)
    run_id: int | None = None
    encoding: str = ""

    @property
    def duplicates(self) -> list[RowResult]:
        return [r for r in self.rows if r.duplicate]

    def counts(self) -> dict[str, int]:
        return {"total": self.total, "created": self.created, "updated": self.updated,
                "skipped": self.skipped, "failed": self.failed}


class Kind:
    """What an import kind provides to the runner; see customers.py for the full example."""

    name = ""
    entity = ""  # audit entity
    fields: list[mappings.FieldSpec] = []
    match_options: tuple[str, ...] = ()
    default_match: tuple[str, ...] = ()
    # Keys the database keeps unique: checked whatever the configured match keys are.
    unique_keys: tuple[str, ...] = ()
    key_columns: dict[str, str] = {}  # key → the column to name in the report

    def begin(self) -> None:
        """Forget what a previous run cached (called once per analysis)."""

    def clean(self, raw: dict[str, str], actor: Actor) -> dict[str, Any]:
        """Validated values of the given (non-blank) cells; Invalid(field → message) otherwise."""
        raise NotImplementedError

    def required_missing(self, values: dict[str, Any]) -> list[str]:
        return [f.name for f in self.fields if f.required and f.name not in values]

    def keys(self, values: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def lookup(self, rows: list[RowResult], key_names: Iterable[str]) -> dict[tuple[str, Any], tuple[int, str]]:
        """Existing records for these rows' keys: {(key, value): (id, label)} — set-based."""
        raise NotImplementedError

    def check_update(self, target_id: int, values: dict[str, Any]) -> dict[str, str]:
        """Errors an update would raise against the stored record (e.g. birth date vs ID)."""
        return {}

    def insert(self, rows: list[RowResult], actor: Actor) -> None:
        raise NotImplementedError

    def update(self, rows: list[RowResult], actor: Actor) -> list[dict[str, Any]]:
        """Apply each row's values to its target; return [{row, id, before, after}] of real changes."""
        raise NotImplementedError


def _kind(name: str) -> Kind:
    from app.services.importing import customers, leads, plans

    kinds = {"customers": customers.KIND, "leads": leads.KIND, "plans": plans.KIND}
    if name not in kinds:
        raise Invalid({"kind": _("Not a valid choice: %(value)s.", value=name)})
    return kinds[name]


def kind(name: str) -> Kind:
    return _kind(name)


def parse_match(kind_: Kind, match: str | Iterable[str] | None) -> tuple[str, ...]:
    if match is None or match == "":
        return kind_.default_match
    items = [m.strip() for m in (match.split(",") if isinstance(match, str) else match) if m and m.strip()]
    bad = [m for m in items if m not in kind_.match_options]
    if bad or not items:
        raise Invalid({"match": _("Match keys must be among: %(keys)s.", keys=", ".join(kind_.match_options))})
    return tuple(dict.fromkeys(items))


def check_policy(policy: str | None) -> str:
    policy = policy or "skip"
    if policy not in POLICIES:
        raise Invalid({"policy": _("Not a valid choice: %(value)s.", value=policy)})
    return policy


def analyse(kind_name: str, filename: str, data: bytes, actor: Actor, *, policy: str = "skip",
            match: str | Iterable[str] | None = None, mapping: dict[str, str] | str | None = None,
            choices: dict[int, str] | None = None) -> tuple[Kind, Report]:
    """Everything a run decides, without writing: the dry run and the UI preview."""
    k = _kind(kind_name)
    policy = check_policy(policy)
    match_keys = parse_match(k, match)
    table = read_table(filename, data)
    k.begin()
    if isinstance(mapping, str):
        mapping = mappings.load(k.name, mapping)
    columns = mappings.check_mapping(mapping if mapping else mappings.guess(table.header, k.fields),
                                     table.header, k.fields)
    report = Report(kind=k.name, file_name=filename, dry_run=True, policy=policy, match=match_keys,
                    mapping=columns, total=len(table.rows), encoding=table.encoding)
    choices = {int(r): c for r, c in (choices or {}).items() if c in POLICIES}
    results: list[RowResult] = []
    for number, cells in table.rows:
        raw = {f: v for f, v in mappings.apply(columns, table.header, cells).items() if v != ""}
        res = RowResult(row=number, action="create", raw=raw)
        try:
            res.values = k.clean(raw, actor)
        except Invalid as exc:
            res.action = "error"
            res.errors = [(f, " ".join(m) if isinstance(m, list) else str(m)) for f, m in exc.errors.items()]
        else:
            res.keys = k.keys(res.values)
        results.append(res)
    _decide(k, results, match_keys, policy, choices)
    for res in results:
        report.errors.extend((res.row, col, msg) for col, msg in res.errors)
    report.rows = results
    return k, report


def _decide(k: Kind, results: list[RowResult], match_keys: tuple[str, ...], policy: str,
            choices: dict[int, str]) -> None:
    key_names = tuple(dict.fromkeys((*match_keys, *k.unique_keys)))
    seen: dict[tuple[str, Any], int] = {}
    valid = [r for r in results if r.action != "error"]
    existing: dict[tuple[str, Any], tuple[int, str]] = {}
    for start in range(0, len(valid), DEFAULT_BATCH):
        existing.update(k.lookup(valid[start:start + DEFAULT_BATCH], key_names))
    for res in results:
        choice = choices.get(res.row)
        if res.action == "error":
            if choice == "skip":  # the user chose to leave this bad row out
                res.action = "skip"
            continue
        # Within the file: a later row with an earlier row's key is the same record again.
        earlier = next(((key, seen[(key, res.keys[key])]) for key in key_names
                        if res.keys.get(key) is not None and (key, res.keys[key]) in seen), None)
        if earlier is not None:
            key, first = earlier
            res.action, res.duplicate, res.match = "skip", True, key
            res.errors = [(k.key_columns.get(key, key), _("Same as row %(n)d of this file; skipped.", n=first))]
            continue
        for key in key_names:
            if res.keys.get(key) is not None:
                seen[(key, res.keys[key])] = res.row
        matches = {key: existing[(key, res.keys[key])] for key in match_keys
                   if res.keys.get(key) is not None and (key, res.keys[key]) in existing}
        clashes = {key: existing[(key, res.keys[key])] for key in k.unique_keys
                   if res.keys.get(key) is not None and (key, res.keys[key]) in existing}
        if matches:
            targets = {v[0] for v in matches.values()}
            res.duplicate = True
            res.match = next(iter(matches))
            res.target_id, res.target_label = matches[res.match]
            if len(targets) > 1:
                res.action = "error"
                res.errors = [(k.key_columns.get(res.match, res.match),
                               _("Matches several existing records: %(ids)s.",
                                 ids=", ".join(f"#{t}" for t in sorted(targets))))]
                continue
            res.action = choice or policy
        else:
            res.action = choice if choice == "skip" else "create"
        if res.action == "update":
            others = {key: v for key, v in clashes.items() if v[0] != res.target_id}
            errors = {k.key_columns.get(key, key): _("Already belongs to %(label)s (#%(id)d).", label=v[1], id=v[0])
                      for key, v in others.items()}
            errors.update(k.check_update(res.target_id, res.values) if not errors else {})
            if errors:
                res.action, res.errors = "error", list(errors.items())
        elif res.action == "create":
            errors = {k.key_columns.get(key, key): _("Already belongs to %(label)s (#%(id)d).", label=v[1], id=v[0])
                      for key, v in clashes.items()}
            for name in k.required_missing(res.values):
                errors.setdefault(name, _("This field is required."))
            if errors:
                res.action, res.errors = "error", list(errors.items())


def run(kind_name: str, filename: str, data: bytes, actor: Actor, *, policy: str = "skip",
        match: str | Iterable[str] | None = None, mapping: dict[str, str] | str | None = None,
        choices: dict[int, str] | None = None, dry_run: bool = False, skip_invalid: bool = False,
        batch_size: int = DEFAULT_BATCH, run_record: ImportRun | None = None,
        progress: Callable[[int, int], None] | None = None) -> Report:
    """Import a file. A dry run writes nothing at all (no run record either) and returns the report.

    A real run writes in batches of `batch_size` rows, each its own transaction; a batch with a bad
    row is not written unless `skip_invalid` (then bad rows are just left out and reported)."""
    try:
        k, report = analyse(kind_name, filename, data, actor, policy=policy, match=match, mapping=mapping,
                            choices=choices)
    except Invalid as exc:
        db.session.rollback()
        if run_record is not None:
            _fail(run_record, exc)
        raise
    if dry_run:
        _count_preview(report)
        return report
    report.dry_run = False
    rec = run_record or ImportRun(kind=k.name, file_name=filename[:255], user_id=actor.id)
    rec.kind, rec.status, rec.dry_run = k.name, "running", False
    rec.policy, rec.match_keys = report.policy, ",".join(report.match)
    rec.mapping = json.dumps(report.mapping, ensure_ascii=False)
    rec.choices = json.dumps({str(r): c for r, c in (choices or {}).items()})
    rec.total, rec.processed, rec.started_at = report.total, 0, utcnow()
    db.session.add(rec)
    db.session.commit()
    report.run_id = rec.id
    changes: list[dict[str, Any]] = []
    rows = report.rows
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        bad = [r for r in batch if r.action == "error"]
        todo_create = [r for r in batch if r.action == "create"]
        todo_update = [r for r in batch if r.action == "update"]
        report.skipped += sum(1 for r in batch if r.action == "skip")
        report.failed += len(bad)
        if bad and not skip_invalid:
            # Nothing of this batch is written: the whole batch counts as failed, and says why.
            lost = todo_create + todo_update
            report.failed += len(lost)
            for r in lost:
                r.action = "error"
            if lost:
                report.errors.append((batch[0].row, "", _(
                    "Rows %(first)d–%(last)d were not imported because row %(bad)d has errors; fix it and "
                    "import again.", first=batch[0].row, last=batch[-1].row, bad=bad[0].row)))
        elif todo_create or todo_update:
            try:
                if todo_create:
                    k.insert(todo_create, actor)
                if todo_update:
                    changes.extend(k.update(todo_update, actor))
                rec.processed = min(start + len(batch), len(rows))
                db.session.commit()
            except SQLAlchemyError as exc:
                db.session.rollback()
                rec = db.session.get(ImportRun, report.run_id)
                lost = todo_create + todo_update
                report.failed += len(lost)
                column, message = _db_error(k, exc)
                for r in lost:
                    r.action = "error"
                report.errors.append((batch[0].row, column, _(
                    "Rows %(first)d–%(last)d were rolled back: %(error)s", first=batch[0].row,
                    last=batch[-1].row, error=message)))
            else:
                report.created += len(todo_create)
                report.updated += sum(1 for _c in todo_update)
        rec.processed = min(start + len(batch), len(rows))
        _store_counts(rec, report)
        db.session.commit()
        if progress:
            progress(rec.processed, rec.total)
    rec.status, rec.finished_at, rec.payload = "done", utcnow(), None
    _store_counts(rec, report)
    rec.errors = json.dumps(report.errors, ensure_ascii=False)
    rec.changes = json.dumps(changes, ensure_ascii=False, default=str)
    audit.record(actor, "import", k.entity, rec.id, {
        "after": {"file": filename, "policy": report.policy, "match": list(report.match), **report.counts()}})
    db.session.commit()
    return report


def _count_preview(report: Report) -> None:
    for r in report.rows:
        if r.action == "create":
            report.created += 1
        elif r.action == "update":
            report.updated += 1
        elif r.action == "skip":
            report.skipped += 1
        else:
            report.failed += 1


def _store_counts(rec: ImportRun, report: Report) -> None:
    rec.created_count, rec.updated_count = report.created, report.updated
    rec.skipped_count, rec.failed_count = report.skipped, report.failed


def _db_error(k: Kind, exc: SQLAlchemyError) -> tuple[str, str]:
    """A database failure in a batch as (column, message), naming the column when it is a known key."""
    text = str(getattr(exc, "orig", exc)).lower()
    for key, column in k.key_columns.items():
        if column.lower() in text or key in text:
            return column, _("a value of %(column)s is already taken (changed since the check?).", column=column)
    return "", _("the database refused the batch (%(error)s).", error=type(getattr(exc, "orig", exc)).__name__)


def _fail(rec: ImportRun, exc: Invalid) -> None:
    rec.status, rec.finished_at, rec.payload = "failed", utcnow(), None
    rec.message = "; ".join(" ".join(m) if isinstance(m, list) else str(m) for m in exc.errors.values())
    rec.errors = json.dumps([[0, f, " ".join(m) if isinstance(m, list) else str(m)] for f, m in exc.errors.items()],
                            ensure_ascii=False)
    db.session.add(rec)
    db.session.commit()


def error_rows(rec: ImportRun) -> list[list[Any]]:
    return json.loads(rec.errors or "[]")
