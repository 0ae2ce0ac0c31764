"""Bulk actions on a list's current filter (批量操作, issue 8.2).

A job acts on "every record the list shows with these filters", not on the visible page: the
filters are stored (FAB `_flt_` arguments as [column, filter index, values]) and re-applied to the
model's interface, with the caller's row rule from `app/security/access.py` — the same function
the list's `base_filters` call — so the set is exactly the list's. Records are read in id order
in batches (keyset: a status change cannot make the job skip or repeat rows) and each batch is
committed with the job's counters. Records the caller may see but not edit are skipped and
reported; every changed record gets its own audit entry.

Small sets run inline; larger ones in the background (`app/jobs/bulk_run.py`). Only the runner
that flips a job from queued to running (a conditional UPDATE) processes it. While it runs,
`started_at` is its heartbeat (renewed by every batch, see `_Lease`): a job whose runner died
mid-way (heartbeat older than `stale_after()`) is taken over by `resume()` and continues after the
last batch that runner committed.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from app.extensions import db
from app.models.base import utcnow
from app.models.bulk_job import BulkJob
from app.services import audit
from app.services import bulk_actions as acts
from app.services.actor import Actor
from app.services.errors import CrmError, Forbidden, Invalid, NotFound

log = logging.getLogger(__name__)

REPORT_LIMIT = 200  # skipped/failed records kept with their reason on the job
SAMPLE_SIZE = 10


@dataclass(frozen=True)
class Target:
    """A list the bulk actions apply to: its model, its row rules and its actions."""

    name: str
    label: Any
    model_path: str  # "module:Class", imported lazily
    scope: Callable[[Any, Actor], Any]  # visible rows (the list's base filter)
    editable: Callable[[Any, Actor], Any]  # rows the caller may change
    actions: dict[str, acts.BulkAction] = field(default_factory=dict)

    @property
    def model(self) -> Any:
        module, _sep, cls = self.model_path.partition(":")
        return getattr(__import__(module, fromlist=[cls]), cls)


def _customers(stmt: Any, actor: Actor) -> Any:
    from app.security.access import scope_customers

    return scope_customers(stmt, actor)


def _leads(stmt: Any, actor: Actor) -> Any:
    from app.models.lead import Lead
    from app.security.access import scope_sales

    return scope_sales(stmt, actor, Lead)


def _tickets(stmt: Any, actor: Actor) -> Any:
    from app.security.access import scope_tickets

    return scope_tickets(stmt, actor)


def _actions(*items: acts.BulkAction) -> dict[str, acts.BulkAction]:
    return {a.key: a for a in items}


TARGETS: dict[str, Target] = {
    "customers": Target("customers", _l("Customers"), "app.models.customer:Customer", _customers, _customers,
                        _actions(acts.CustomerReassign(), acts.CustomerStatus(), acts.CustomerSegment(),
                                 acts.CustomerTag(), acts.CustomerFollowUp())),
    "leads": Target("leads", _l("Leads"), "app.models.lead:Lead", _leads, _leads,
                    _actions(acts.LeadReassign(), acts.LeadStatus())),
    "tickets": Target("tickets", _l("Tickets"), "app.models.ticket:Ticket", _tickets, _tickets,
                      _actions(acts.TicketReassign())),
}


def target_for_model(model: Any) -> Target | None:
    """The bulk target of a list page's model, or None when the list offers no bulk actions."""
    for target in TARGETS.values():
        if target.model is model:
            return target
    return None


def _target(name: str) -> Target:
    target = TARGETS.get(name)
    if target is None:
        raise NotFound()
    return target


def _action(target: Target, key: Any) -> acts.BulkAction:
    action = target.actions.get(str(key or ""))
    if action is None:
        raise Invalid({"action": _("Choose an action.")})
    return action


def clean_filters(raw: Any) -> list[list[Any]]:
    """[[column, filter index, [values…]], …] with plain types (what the job stores)."""
    out = []
    for item in raw or []:
        column, index, values = item
        values = values if isinstance(values, list) else [values]
        out.append([str(column), int(index), [str(v) for v in values]])
    return out


@functools.cache
def _interface(model: Any) -> Any:
    from app.views.datamodel import CrmSQLAInterface

    return CrmSQLAInterface(model, session=db.session)


def _query(target: Target, filters: list[list[Any]], actor: Actor, scope: Callable[[Any, Actor], Any]) -> Any:
    """The list's query: the same interface and filter classes as the page, plus the row rule."""
    model = target.model
    interface = _interface(model)
    flts = interface.get_filters()
    for column, index, values in filters:
        known = flts._all_filters.get(column) or []
        if not 0 <= index < len(known):
            raise Invalid({"filters": _("Unknown filter on %(column)s.", column=column)})
        flts.add_filter_index(column, index, values)
    query = interface.apply_filters(db.session.query(model), flts)
    return scope(query, actor)


def count(target_name: str, filters: Any, actor: Actor) -> int:
    """How many records the list shows with these filters (what the job will go through)."""
    target = _target(target_name)
    query = _query(target, clean_filters(filters), actor, target.scope)
    ids = query.with_entities(target.model.id).order_by(None).subquery()
    return int(db.session.execute(select(func.count()).select_from(ids)).scalar() or 0)


@dataclass
class Preview:
    count: int
    sample: list[Any]


def preview(target_name: str, filters: Any, actor: Actor, sample_size: int = SAMPLE_SIZE) -> Preview:
    target = _target(target_name)
    query = _query(target, clean_filters(filters), actor, target.scope)
    sample = query.order_by(target.model.id).limit(sample_size).all()
    return Preview(count=count(target_name, filters, actor), sample=sample)


def may_run(target_name: str, action_key: str, actor: Actor) -> bool:
    action = _target(target_name).actions.get(action_key)
    return action is not None and (not action.managers_only or actor.has_role(*acts.MANAGER_ROLES))


def start(target_name: str, action_key: Any, params: dict[str, Any], filters: Any, actor: Actor) -> BulkJob:
    """Validate and record the job (committed). The caller runs it: inline when small, else in the
    background; `inline_limit()` says which."""
    target = _target(target_name)
    action = _action(target, action_key)
    if action.managers_only and not actor.has_role(*acts.MANAGER_ROLES):
        raise Forbidden(_("Only a manager can reassign records."))
    if actor.id is None:
        raise Forbidden()
    cleaned = action.clean(dict(params or {}), actor)
    flts = clean_filters(filters)
    total = count(target_name, flts, actor)
    job = BulkJob(user_id=actor.id, target=target.name, action=action.key,
                  params=json.dumps(cleaned, ensure_ascii=False, default=str),
                  filters=json.dumps(flts, ensure_ascii=False), total=total, status="queued", report="[]",
                  done=0, skipped=0, failed=0, last_id=0, created_at=utcnow())
    db.session.add(job)
    db.session.flush()
    audit.record(actor, "bulk_start", "bulk_job", job.id, {"target": target.name, "action": action.key,
                                                           "params": cleaned, "filters": flts, "total": total})
    db.session.commit()
    return job


def inline_limit() -> int:
    return int(current_app.config.get("CRM_BULK_INLINE_LIMIT", 500))


def batch_size() -> int:
    return int(current_app.config.get("CRM_BULK_BATCH", 200))


def actor_of(user_id: int) -> Actor:
    """The job owner as an `Actor`, rebuilt from the database (a background run has no request)."""
    from app.models.user import CrmUser

    user = db.session.get(CrmUser, user_id)
    if user is None or not user.active:
        raise Forbidden()
    kwargs: dict[str, Any] = {"department_id": user.department_id}
    if "team_id" in Actor.__dataclass_fields__:  # teams (issue 8.3), where present
        kwargs["team_id"] = getattr(user, "team_id", None)
    return Actor(id=user.id, username=user.username, roles=frozenset(r.name for r in user.roles), **kwargs)


def stale_after() -> dt.timedelta:
    """How long a running job may go without a heartbeat before another runner takes it over. Far
    above one batch's time (a batch of 200 takes well under a second), so a live runner keeps it."""
    return dt.timedelta(seconds=int(current_app.config.get("CRM_BULK_STALE_SECONDS", 300)))


class _LeaseLost(Exception):
    """Another runner took the job over (this one was thought dead): stop without writing."""


@dataclass
class _Lease:
    """The runner's hold on a running job: `BulkJob.started_at` is its heartbeat.

    Each batch transaction starts by moving `started_at` from the value this runner last committed
    to a new one (a conditional UPDATE, which also locks the job row until the batch commits), so a
    batch's changes and the job's counters commit only while the runner still holds the job. A
    runner whose heartbeat is older than `stale_after()` (its process died) is replaced by
    `resume()`; should it still be alive, its next UPDATE matches no row and it stops.
    """

    job_id: int
    stamp: dt.datetime  # the heartbeat as last committed by this runner
    pending: dt.datetime | None = None

    def renew(self) -> None:
        new = max(utcnow(), self.stamp + dt.timedelta(microseconds=1))  # always a new value
        result = db.session.execute(
            update(BulkJob).where(BulkJob.id == self.job_id, BulkJob.status == "running",
                                  BulkJob.started_at == self.stamp)
            .values(started_at=new).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise _LeaseLost()
        self.pending = new

    def commit(self) -> None:
        db.session.commit()
        if self.pending is not None:
            self.stamp, self.pending = self.pending, None

    def rollback(self) -> None:
        db.session.rollback()
        self.pending = None


def _claim(job_id: int, *conditions: Any) -> _Lease | None:
    stamp = utcnow()
    result = db.session.execute(update(BulkJob).where(BulkJob.id == job_id, *conditions)
                                .values(status="running", started_at=stamp)
                                .execution_options(synchronize_session=False))
    db.session.commit()
    return _Lease(job_id, stamp) if result.rowcount == 1 else None


def claim(job_id: int) -> bool:
    """Flip queued → running; only the runner that wins this UPDATE processes the job."""
    return _claim(job_id, BulkJob.status == "queued") is not None


def run(job_id: int, actor: Actor | None = None) -> BulkJob:
    """Process a queued job to the end, batch by batch (each batch committed with the counters)."""
    job = db.session.get(BulkJob, job_id)
    if job is None:
        raise NotFound()
    lease = _claim(job_id, BulkJob.status == "queued")
    if lease is None:
        db.session.refresh(job)
        return job
    return _run_claimed(job_id, lease, actor)


def resume(job_id: int, stale_before: dt.datetime) -> BulkJob | None:
    """Take over a job left running by a runner whose heartbeat stopped before `stale_before` (its
    web process died) and finish it from the batch after its last committed one (`last_id`).
    None when the job is not (or no longer) such a job."""
    lease = _claim(job_id, BulkJob.status == "running",
                   or_(BulkJob.started_at < stale_before, BulkJob.started_at.is_(None)))
    if lease is None:
        return None
    log.warning("bulk job %s: taking over a stalled run", job_id)
    return _run_claimed(job_id, lease, None)


def _run_claimed(job_id: int, lease: _Lease, actor: Actor | None) -> BulkJob:
    job = db.session.get(BulkJob, job_id)
    try:
        actor = actor if actor is not None and actor.id == job.user_id else actor_of(job.user_id)
        _process(job, actor, lease)
        lease.renew()
        job = db.session.get(BulkJob, job_id)
        job.status, job.finished_at = "done", utcnow()
        audit.record(actor, "bulk_done", "bulk_job", job.id,
                     {"done": job.done, "skipped": job.skipped, "failed": job.failed})
        lease.commit()
    except _LeaseLost:
        log.warning("bulk job %s: another runner took it over; this one stops", job_id)
        lease.rollback()
    except Exception as exc:  # noqa: BLE001 - a job must end in a state the user can read
        log.exception("bulk job %s failed", job_id)
        lease.rollback()
        try:
            lease.renew()
        except _LeaseLost:
            lease.rollback()
        else:
            job = db.session.get(BulkJob, job_id)
            job.status, job.error, job.finished_at = "failed", str(exc)[:2000], utcnow()
            lease.commit()
    job = db.session.get(BulkJob, job_id)
    db.session.refresh(job)
    return job


def _process(job: BulkJob, actor: Actor, lease: _Lease) -> None:
    target = _target(job.target)
    action = _action(target, job.action)
    model = target.model
    params = json.loads(job.params)
    filters = json.loads(job.filters)
    report = json.loads(job.report or "[]")
    size = batch_size()
    while True:
        # Re-read the job in this batch's transaction: a runner taking over starts from the
        # counters and `last_id` the previous runner committed with its last batch.
        lease.renew()
        job = db.session.get(BulkJob, job.id)
        query = _query(target, filters, actor, target.scope).filter(model.id > job.last_id)
        rows = query.order_by(model.id).limit(size).all()
        if not rows:
            lease.rollback()
            return
        ids = [r.id for r in rows]
        editable_ids = set(_query(target, [], actor, target.editable).filter(model.id.in_(ids))
                           .with_entities(model.id).all())
        editable_ids = {row[0] for row in editable_ids}
        allowed = [r for r in rows if r.id in editable_ids]
        reasons = {r.id: _("You may not edit this record.") for r in rows if r.id not in editable_ids}
        try:
            results = action.apply(allowed, params, actor, job.id)
            reasons.update({r.id: reason for r, reason in zip(allowed, results, strict=True) if reason})
            job.done += len(allowed) - sum(1 for reason in results if reason)
            job.skipped += len(reasons)
        except CrmError:
            raise
        except Exception as exc:  # noqa: BLE001 - one bad batch is reported, the rest still runs
            log.exception("bulk job %s: batch after id %s failed", job.id, job.last_id)
            lease.rollback()
            lease.renew()
            job = db.session.get(BulkJob, job.id)
            job.failed += len(rows)
            reasons = {rid: _("Failed: %(error)s", error=str(exc)[:200]) for rid in ids}
        for rid, reason in reasons.items():
            if len(report) < REPORT_LIMIT:
                report.append({"id": rid, "reason": str(reason)})
        job.report = json.dumps(report, ensure_ascii=False)
        job.last_id = ids[-1]
        lease.commit()


def get(job_id: Any, actor: Actor) -> BulkJob:
    """A job its owner (or an Admin/Manager) may follow; anyone else gets NotFound."""
    from app.services.validation import check_id

    job_pk = check_id(job_id)
    job = db.session.get(BulkJob, job_pk) if job_pk is not None else None
    if job is None or (job.user_id != actor.id and not actor.has_role(*acts.MANAGER_ROLES)):
        raise NotFound()
    return job


def progress(job: BulkJob) -> dict[str, Any]:
    """The job as JSON for the progress page's polling."""
    return {"id": job.id, "status": job.status, "total": job.total, "done": job.done,
            "skipped": job.skipped, "failed": job.failed, "processed": job.processed,
            "percent": 100 if job.status == "done" else int(100 * job.processed / job.total) if job.total else 0,
            "finished": job.status in ("done", "failed")}


def describe(job: BulkJob) -> str:
    target = TARGETS.get(job.target)
    action = target.actions.get(job.action) if target else None
    return action.describe(json.loads(job.params)) if action else f"{job.target}.{job.action}"


def report_rows(job: BulkJob) -> list[dict[str, Any]]:
    return json.loads(job.report or "[]")


def recent(actor: Actor, target_name: str, limit: int = 20) -> list[BulkJob]:
    """The caller's latest jobs on one list, newest first."""
    stmt = (select(BulkJob).where(BulkJob.user_id == actor.id, BulkJob.target == target_name)
            .order_by(BulkJob.id.desc()).limit(limit))
    return list(db.session.execute(stmt).scalars())
