"""The UI's import steps around one `ImportRun`: upload → mapping → preview → run → result.

The uploaded file stays in the run record (`payload`) between the steps, so any web worker can
serve the next step; the run clears it when it finishes.
"""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from app.extensions import db
from app.models.base import utcnow
from app.models.import_job import ImportRun
from app.security.access import scope_import_runs
from app.services.actor import Actor
from app.services.errors import Invalid, NotFound
from app.services.importing import mapping as mappings
from app.services.importing import runner
from app.services.importing.readers import Table, read_table


def upload(kind_name: str, filename: str | None, data: bytes, actor: Actor) -> ImportRun:
    """Check the file is readable and stage it with a guessed mapping; nothing else is written."""
    k = runner.kind(kind_name)
    if not filename:
        raise Invalid({"file": _("Choose a file.")})
    table = read_table(filename, data)
    run = ImportRun(kind=k.name, file_name=filename[:255], user_id=actor.id, status="uploaded",
                    total=len(table.rows), policy="skip", match_keys=",".join(k.default_match),
                    mapping=json.dumps(mappings.guess(table.header, k.fields), ensure_ascii=False), payload=data)
    db.session.add(run)
    db.session.commit()
    return run


def get(run_id: Any, actor: Actor, kind_name: str | None = None) -> ImportRun:
    stmt = scope_import_runs(select(ImportRun).where(ImportRun.id == run_id), actor)
    if kind_name:
        stmt = stmt.where(ImportRun.kind == kind_name)
    run = db.session.execute(stmt).scalar_one_or_none()
    if run is None:
        raise NotFound()
    return run


def recent(kind_name: str, actor: Actor, limit: int = 20) -> list[ImportRun]:
    stmt = scope_import_runs(select(ImportRun).where(ImportRun.kind == kind_name), actor)
    return list(db.session.execute(stmt.order_by(ImportRun.id.desc()).limit(limit)).scalars())


def table(run: ImportRun) -> Table:
    if run.payload is None:
        raise Invalid({"file": _("This import has already run; upload the file again.")})
    return read_table(run.file_name, run.payload)


def configure(run: ImportRun, columns: dict[str, str], policy: str | None, match: list[str] | str | None,
              save_as: str | None, actor: Actor) -> ImportRun:
    """Store the chosen mapping, policy and match keys (and save the mapping under a name)."""
    k = runner.kind(run.kind)
    errors: dict[str, str] = {}
    try:
        checked = mappings.check_mapping({h: f for h, f in columns.items() if f}, table(run).header, k.fields)
    except Invalid as exc:
        raise Invalid(exc.errors) from None
    try:
        policy = runner.check_policy(policy)
        match_keys = runner.parse_match(k, match)
    except Invalid as exc:
        errors.update(exc.errors)
    if errors:
        raise Invalid(errors)
    if save_as and save_as.strip():
        mappings.save(k.name, save_as, checked, actor)
    run.mapping = json.dumps(checked, ensure_ascii=False)
    run.policy, run.match_keys = policy, ",".join(match_keys)
    db.session.commit()
    return run


def preview(run: ImportRun, actor: Actor) -> runner.Report:
    data = run.payload
    if data is None:
        raise Invalid({"file": _("This import has already run; upload the file again.")})
    _k, report = runner.analyse(run.kind, run.file_name, data, actor, policy=run.policy, match=run.match_keys,
                                mapping=json.loads(run.mapping or "{}") or None)
    runner._count_preview(report)
    return report


def claim(run: ImportRun) -> None:
    """Mark a staged run as running, once: a second click (or a second tab) cannot run it twice."""
    taken = db.session.execute(update(ImportRun).where(ImportRun.id == run.id, ImportRun.status == "uploaded")
                               .values(status="running", started_at=utcnow())).rowcount
    db.session.commit()
    if taken != 1:
        raise Invalid({"file": _("This import has already run; upload the file again.")})


def execute(run_id: int, choices: dict[int, str], actor: Actor) -> runner.Report:
    """The real run of a claimed import (in the request, or in a background thread for big files)."""
    run = db.session.get(ImportRun, run_id)
    data = run.payload
    if data is None:
        raise Invalid({"file": _("This import has already run; upload the file again.")})
    return runner.run(run.kind, run.file_name, data, actor, policy=run.policy, match=run.match_keys,
                      mapping=json.loads(run.mapping or "{}") or None, choices=choices, run_record=run)


def progress(run: ImportRun) -> dict[str, Any]:
    return {"id": run.id, "status": run.status, "total": run.total, "processed": run.processed,
            "created": run.created_count, "updated": run.updated_count, "skipped": run.skipped_count,
            "failed": run.failed_count, "percent": int(100 * run.processed / run.total) if run.total else 100}
