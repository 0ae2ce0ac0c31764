"""Upkeep of `care_task_daily`, the care task counts behind the team page (see app/models/care_summary.py).

Triggers on `care_task` write the rows; this module folds them (`compact`, the `care_team_summary`
job) and can rebuild them from the tasks (`rebuild`, after a bulk load that bypassed triggers, e.g.
PostgreSQL's `session_replication_role = replica`). `drift` compares them with the tasks: empty
when the summary is exact.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import delete, func, insert, select, text

from app.extensions import db
from app.models.care import CareTask
from app.models.care_summary import CareTaskDaily

Key = tuple[int | None, dt.date, str]


def _key_columns(model: Any) -> tuple[Any, Any, Any]:
    return model.assignee_id, model.due_date, model.status


def compact() -> dict[str, int]:
    """Fold every key that has several rows into one row (a key whose changes net to 0: none).

    The folded rows are exactly the rows the DELETE removed (RETURNING), re-added as their sum in
    the same transaction: a change committed meanwhile stays as its own row, and a second compaction
    at the same time skips the rows the first one deleted. Readers see before or after, never half.
    """
    D = CareTaskDaily
    assignee = func.coalesce(D.assignee_id, 0)  # NULL (unassigned) is a key like any other
    crowded = (select(assignee.label("a"), D.due_date, D.status).group_by(assignee, D.due_date, D.status)
               .having(func.count() > 1).subquery())
    ids = select(D.id).join(crowded, (assignee == crowded.c.a) & (D.due_date == crowded.c.due_date)
                            & (D.status == crowded.c.status))
    gone = db.session.execute(
        delete(D).where(D.id.in_(ids)).returning(D.assignee_id, D.due_date, D.status, D.n)
        .execution_options(synchronize_session=False)).all()
    totals: Counter[Key] = Counter()
    for assignee_id, due, status, n in gone:
        totals[(assignee_id, due, status)] += n
    kept = [{"assignee_id": a, "due_date": d, "status": s, "n": n} for (a, d, s), n in totals.items() if n]
    if kept:
        db.session.execute(insert(D), kept)
    db.session.commit()
    _vacuum()
    return {"folded": len(gone), "kept": len(kept)}


def _vacuum() -> None:
    """Reclaim the folded rows now on PostgreSQL (a small table, a few ms).

    Every fold leaves its deleted rows dead; left to autovacuum (or with it off, as on some
    servers) they pile up in the index the agenda reads: 550,000 dead rows made the agenda's tab
    counts 14 ms instead of 0.3 ms at a million customers. VACUUM cannot run in a transaction,
    hence its own autocommit connection."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE care_task_daily"))


def rebuild() -> int:
    """Replace the summary with counts over the tasks; returns the number of keys."""
    D = CareTaskDaily
    # On PostgreSQL a task written between the DELETE's snapshot and the INSERT's would be counted
    # twice (its trigger row survives the DELETE): writers wait until this commits.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE care_task IN SHARE MODE"))
    db.session.execute(delete(D))
    keys = _key_columns(CareTask)
    result = db.session.execute(
        insert(D).from_select(["assignee_id", "due_date", "status", "n"],
                              select(*keys, func.count()).group_by(*keys))
        .execution_options(preserve_rowcount=True))
    db.session.commit()
    return max(result.rowcount or 0, 0)


def counts() -> dict[Key, int]:
    """The summary's count per key (keys at 0 left out)."""
    keys = _key_columns(CareTaskDaily)
    rows = db.session.execute(select(*keys, func.sum(CareTaskDaily.n)).group_by(*keys)).all()
    return {(a, _day(d), s): int(n) for a, d, s, n in rows if n}


def task_counts() -> dict[Key, int]:
    """The same counts, straight from `care_task`."""
    keys = _key_columns(CareTask)
    rows = db.session.execute(select(*keys, func.count()).group_by(*keys)).all()
    return {(a, _day(d), s): int(n) for a, d, s, n in rows}


def drift() -> dict[Key, tuple[int, int]]:
    """Keys where the summary and the tasks disagree: {key: (summary, tasks)}."""
    summary, tasks = counts(), task_counts()
    return {k: (summary.get(k, 0), tasks.get(k, 0)) for k in summary.keys() | tasks.keys()
            if summary.get(k, 0) != tasks.get(k, 0)}


def _day(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
