"""Upkeep of the daily sales summary (`sales_daily`, see `app.models.sales_summary`).

How it stays exact. An opportunity's figures can change long after its day: moving a months-old
opportunity changes the funnel of the day it was created, and reassigning one moves its figures to
another owner. So no day is ever "closed", and a nightly rebuild of yesterday would go stale. Instead,
every flush of the ORM session that inserts, changes or deletes an `Opportunity` or a `Lead` also
applies the difference to the summary, in the same transaction: each such record's contribution is
read from the database before the flush and after it, and the summary rows get `n + Δ` (an upsert that
adds, so concurrent transactions never lose each other's changes; rows whose count falls to zero go).
This covers every writer that goes through the ORM (opportunities.create/move/update, leads.convert,
bulk reassignments, deletions, imports) without each of them having to remember the summary.

Writers that bypass the ORM (the seed's COPY and set-based UPDATEs, hand-run SQL) call `rebuild()`
afterwards: one set-based recomputation from the live tables. The `sales_summary` job runs it every
night as a safety net and reports how many rows it had to correct (0 when the upkeep is exact).

Business days are the operator's (`CRM_TIMEZONE`): PostgreSQL converts with `AT TIME ZONE`, SQLite
with a registered function using the same zone rules as Python, so all three agree, DST included.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy import inspect as orm_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.models.lead import Lead
from app.models.opportunity import Opportunity
from app.models.sales_summary import NO_OWNER, SalesDaily
from app.timefmt import local_zone

Key = tuple[str, dt.date, int, int, str]  # metric, day, owner_key, reached_rank, lost_reason
Figures = dict[Key, list]  # key -> [n, revenue]

_OPP = Opportunity.__table__
_LEAD = Lead.__table__
_SUMMARY = SalesDaily.__table__
_OPP_COLS = ("id", "owner_id", "created_at", "reached_rank", "stage", "closed_at", "lost_reason", "expected_revenue")
_LEAD_COLS = ("id", "owner_id", "created_customer", "converted_at")
_TRACKED = ((Opportunity, _OPP, _OPP_COLS), (Lead, _LEAD, _LEAD_COLS))
_PENDING = "sales_summary_before"  # session.info key: contributions read before the flush
_CHUNK = 1000
SQLITE_DAY_FUNCTION = "crm_local_day"


# ---- one record's contribution --------------------------------------------------------------------

def _day(value: dt.datetime) -> dt.date:
    """The business day of a naive-UTC timestamp (as `care.business_date`)."""
    return value.replace(tzinfo=dt.UTC).astimezone(local_zone()).date()


def _owner(owner_id: int | None) -> int:
    return NO_OWNER if owner_id is None else int(owner_id)


def _add(figures: Figures, key: Key, n: int, revenue: Any = 0) -> None:
    cell = figures.setdefault(key, [0, Decimal("0")])
    cell[0] += n
    cell[1] += Decimal(str(revenue or 0))


def _contribute(figures: Figures, table: Any, row: Mapping[str, Any], sign: int) -> None:
    """Add (sign +1) or take away (-1) what one opportunity or lead row counts for on the dashboard."""
    owner = _owner(row["owner_id"])
    if table is _LEAD:
        if row["created_customer"] and row["converted_at"] is not None:
            _add(figures, ("new_customer", _day(row["converted_at"]), owner, 0, ""), sign)
        return
    if row["created_at"] is not None:
        _add(figures, ("created", _day(row["created_at"]), owner, int(row["reached_rank"] or 0), ""), sign)
    if row["closed_at"] is not None and row["stage"] == "won":
        revenue = Decimal(str(row["expected_revenue"] or 0))
        _add(figures, ("won", _day(row["closed_at"]), owner, 0, ""), sign, sign * revenue)
    elif row["closed_at"] is not None and row["stage"] == "lost":
        _add(figures, ("lost", _day(row["closed_at"]), owner, 0, row["lost_reason"] or ""), sign)


def _read(conn: Connection, table: Any, cols: tuple[str, ...], ids: Iterable[int]) -> list[Mapping[str, Any]]:
    ids = sorted(set(ids))
    rows: list[Mapping[str, Any]] = []
    for i in range(0, len(ids), _CHUNK):
        stmt = select(*[table.c[c] for c in cols]).where(table.c.id.in_(ids[i:i + _CHUNK]))
        rows.extend(r._mapping for r in conn.execute(stmt))
    return rows


# ---- the in-transaction upkeep (ORM session events) ---------------------------------------------------

def _ident(obj: Any) -> int | None:
    identity = orm_inspect(obj).identity  # no load: the key the session already holds
    return identity[0] if identity else None


def _counts_change(obj: Any, cols: tuple[str, ...]) -> bool:
    """Whether a pending change can touch the figures: a counted column, or the owner relationship
    (which sets `owner_id` only during the flush). Edits of names, notes or scores cost nothing."""
    attrs = orm_inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in (*cols[1:], "owner"))


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    before: dict[Any, set[int]] = {}
    for cls, table, cols in _TRACKED:
        ids = {_ident(o) for o in session.dirty if isinstance(o, cls) and _counts_change(o, cols)}
        ids |= {_ident(o) for o in session.deleted if isinstance(o, cls)}
        ids.discard(None)
        if ids:
            before[table] = ids
    if not before:
        return
    conn = session.connection()  # the flush's own transaction; a Connection does not autoflush
    figures: Figures = {}
    for table, ids in before.items():
        cols = next(c for _k, t, c in _TRACKED if t is table)
        for row in _read(conn, table, cols, ids):
            _contribute(figures, table, row, -1)
    session.info[_PENDING] = (before, figures)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    before, figures = session.info.pop(_PENDING, ({}, {}))
    now_ids: dict[Any, set[int]] = {}
    for cls, table, _cols in _TRACKED:
        # A new lead counts only once it has brought a customer (imports add thousands that have not).
        ids = {o.id for o in session.new if isinstance(o, cls) and (cls is not Lead or o.created_customer)}
        ids |= {i for i in before.get(table, ()) if i is not None}
        if ids:
            now_ids[table] = ids
    if not now_ids and not figures:
        return
    conn = session.connection()
    for _cls, table, cols in _TRACKED:
        if now_ids.get(table):
            for row in _read(conn, table, cols, now_ids[table]):  # deleted rows are simply gone
                _contribute(figures, table, row, +1)
    apply(conn, figures)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def apply(conn: Connection, figures: Figures) -> int:
    """Add the differences to the summary; returns how many keys changed."""
    changed = sorted((k, v) for k, v in figures.items() if v[0] or v[1])
    if not changed:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    ins = dialect.insert(_SUMMARY)
    stmt = ins.on_conflict_do_update(
        index_elements=["metric", "day", "owner_key", "reached_rank", "lost_reason"],
        set_={"n": _SUMMARY.c.n + ins.excluded.n, "revenue": _SUMMARY.c.revenue + ins.excluded.revenue})
    # Keys in one order in every transaction, so two upkeeps cannot deadlock on each other's rows.
    conn.execute(stmt, [{"metric": m, "day": d, "owner_key": o, "reached_rank": r, "lost_reason": lr,
                         "n": n, "revenue": rev} for (m, d, o, r, lr), (n, rev) in changed])
    days = defaultdict(set)
    for (m, d, _o, _r, _lr), _v in changed:
        days[m].add(d)
    for metric, ds in days.items():
        conn.execute(delete(_SUMMARY).where(_SUMMARY.c.metric == metric, _SUMMARY.c.day.in_(sorted(ds)),
                                            _SUMMARY.c.n == 0))
    return len(changed)


# ---- full rebuild (set-based) ---------------------------------------------------------------------

def _zone_name() -> str:
    name = local_zone().key
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", name):  # inlined in SQL below: a zone key, nothing else
        raise ValueError(f"unexpected time zone name {name!r}")
    return name


def register_sqlite_day(dbapi_connection: Any) -> None:
    """`crm_local_day(ts)` on a SQLite connection: the business day of a stored naive-UTC timestamp."""
    def local_day(value: str | None) -> str | None:
        return _day(dt.datetime.fromisoformat(value)).isoformat() if value else None

    dbapi_connection.create_function(SQLITE_DAY_FUNCTION, 1, local_day, deterministic=True)


def rebuild_statements(pg: bool) -> list[str]:
    """SQL that recomputes the whole summary from the live tables (SQLite needs `register_sqlite_day`)."""
    zone = _zone_name()

    def day(col: str) -> str:
        if pg:
            return f"CAST(({col} AT TIME ZONE 'UTC') AT TIME ZONE '{zone}' AS DATE)"
        return f"{SQLITE_DAY_FUNCTION}({col})"

    into = "INSERT INTO sales_daily (metric, day, owner_key, reached_rank, lost_reason, n, revenue) SELECT "
    owner = f"COALESCE(owner_id, {NO_OWNER})"
    # Only fixed names and the checked zone key are put into these statements.
    selects = [
        f"'created', {day('created_at')}, {owner}, reached_rank, '', COUNT(*), 0 FROM opportunity "
        "WHERE created_at IS NOT NULL GROUP BY 2, 3, 4",
        f"'won', {day('closed_at')}, {owner}, 0, '', COUNT(*), COALESCE(SUM(expected_revenue), 0) "
        "FROM opportunity WHERE stage = 'won' AND closed_at IS NOT NULL GROUP BY 2, 3",
        f"'lost', {day('closed_at')}, {owner}, 0, COALESCE(lost_reason, ''), COUNT(*), 0 "
        "FROM opportunity WHERE stage = 'lost' AND closed_at IS NOT NULL GROUP BY 2, 3, 5",
        f"'new_customer', {day('converted_at')}, {owner}, 0, '', COUNT(*), 0 FROM lead "
        "WHERE created_customer = TRUE AND converted_at IS NOT NULL GROUP BY 2, 3",
    ]
    return [
        # Concurrent upkeeps wait until the rebuild commits, then add their change to the fresh rows;
        # readers keep seeing the previous rows meanwhile (DELETE, not TRUNCATE).
        *(["LOCK TABLE sales_daily IN SHARE ROW EXCLUSIVE MODE"] if pg else []),
        "DELETE FROM sales_daily",
        *(into + s for s in selects),
        # Fresh statistics, so the planner hashes the few thousand rows of a period instead of sorting.
        *(["ANALYZE sales_daily"] if pg else []),
    ]


def _snapshot(conn: Connection) -> dict[Key, tuple[int, Decimal]]:
    rows = conn.execute(select(_SUMMARY.c.metric, _SUMMARY.c.day, _SUMMARY.c.owner_key, _SUMMARY.c.reached_rank,
                               _SUMMARY.c.lost_reason, _SUMMARY.c.n, _SUMMARY.c.revenue))
    return {(m, d, o, r, lr): (int(n), Decimal(str(rev)).quantize(Decimal("0.01"))) for m, d, o, r, lr, n, rev in rows}


def rebuild(session: Session | None = None) -> dict[str, int]:
    """Recompute the summary from the live tables in one transaction, and commit.

    Returns the rows written, how many rows differed from what the upkeep had kept (`corrected`:
    0 unless something wrote opportunities or leads around the ORM) and the milliseconds it took."""
    from app.extensions import db

    session = session or db.session
    started = time.perf_counter()
    conn = session.connection()
    pg = conn.dialect.name == "postgresql"
    if not pg:
        register_sqlite_day(conn.connection.driver_connection)
    if pg:
        conn.exec_driver_sql(rebuild_statements(pg)[0])  # lock first: the snapshot below is then settled
    old = _snapshot(conn)
    for statement in rebuild_statements(pg)[1 if pg else 0:]:
        conn.exec_driver_sql(statement)
    new = _snapshot(conn)
    corrected = sum(1 for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    session.commit()
    return {"rows": len(new), "corrected": corrected, "ms": int((time.perf_counter() - started) * 1000)}


def rebuild_in_seed(sink: Any) -> None:
    """The seed's last step: its rows went in by COPY and set-based UPDATEs, around the ORM."""
    if not sink.pg:
        register_sqlite_day(sink.conn)
    for statement in rebuild_statements(sink.pg):
        sink.execute(statement)


def ensure_built() -> dict[str, int] | None:
    """Fill the summary once after the upgrade that creates it (`crm init`); later runs find rows.

    An empty summary while an opportunity or a lead that brought a new customer exists can only
    mean it was never built: every such record counts somewhere."""
    from sqlalchemy import exists

    from app.extensions import db

    has_rows = db.session.execute(select(exists().where(_SUMMARY.c.n != 0))).scalar()
    needed = db.session.execute(select(exists().where(_OPP.c.id.is_not(None)) | exists().where(
        _LEAD.c.created_customer.is_(True)))).scalar()
    if has_rows or not needed:
        return None
    return rebuild()
