"""Keyset ("seek") paging behind FAB's page-number pager.

FAB asks for page N; stock SQLAlchemy answers with `ORDER BY … OFFSET N*size`, which walks every
earlier row on every request (400,000 index entries for page 20,000 of the customer list). Here,
for a list ordered by a NOT NULL column (with the primary key as FAB's tie-breaker), the sort key
of rows at known positions ("anchors": the first and last row of every page served) is remembered
per filter + order signature, and a page seeks from the nearest one:

    WHERE (name, id) < (:anchor_name, :anchor_id) ORDER BY name DESC, id DESC OFFSET <gap> LIMIT 20

so the next and previous pages cost a seek plus 20 rows, a jump costs the gap from the nearest
page seen. Pages near the end walk back from it once the exact total is known (the count is exact
for filtered lists; the estimated ones are counted once, in parallel, when a page past
`CRM_KEYSET_COUNT_FROM` of the estimate is asked for).

The ids are exactly those OFFSET would give while the anchors are current. Anchors are dropped:
- in this process, by any INSERT/UPDATE/DELETE on a table of the query (engine events, at the
  statement and again at commit);
- on PostgreSQL, when the tables' insert/update/delete counters (`pg_stat_get_tuples_*`) change,
  which covers other processes' commits once PostgreSQL publishes its statistics (about a
  second after a busy backend's commit, at most ~10 s for one that goes idle);
- in every case after `CRM_KEYSET_TTL` seconds (default 60).
Between another process's commit and that moment a page boundary can be off by the rows that
process added or removed — what a user also sees when paging with OFFSET while others edit.

A list ordered by a nullable or related column, or without an order, keeps plain OFFSET.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import Table, event, func, inspect, select, text, tuple_
from sqlalchemy.engine import Engine
from sqlalchemy.sql import visitors

# Writes seen by this process, per table name (bumped on the statement and again at commit).
_generation: dict[str, int] = {}
_PENDING = "_crm_keyset_pending"
_WRITE = re.compile(r"\s*(?:insert\s+into|update|delete\s+from|truncate(?:\s+table)?)\s+\"?(\w+)", re.IGNORECASE)
_MAX_SIGNATURES = 256
_MAX_ANCHORS = 4096


def _bump(tables: set[str] | frozenset[str]) -> None:
    for name in tables:
        _generation[name] = _generation.get(name, 0) + 1


@event.listens_for(Engine, "after_cursor_execute")
def _note_write(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    match = _WRITE.match(statement)
    if match:
        table = match.group(1).lower()
        _bump({table})
        conn.info.setdefault(_PENDING, set()).add(table)


@event.listens_for(Engine, "commit")
def _note_commit(conn: Any) -> None:
    # Again at commit: a reader that walked between our statement and our commit saw old rows.
    _bump(conn.info.pop(_PENDING, set()))


@event.listens_for(Engine, "rollback")
def _note_rollback(conn: Any) -> None:
    conn.info.pop(_PENDING, None)


@dataclass
class _Entry:
    stamp: tuple[Any, ...]
    born: float
    anchors: dict[int, tuple[Any, ...]] = field(default_factory=dict)  # position → sort key
    total: int | None = None


_cache: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
_lock = threading.Lock()


def clear() -> None:
    """Forget every anchor (tests; benchmarks of a cold list)."""
    with _lock:
        _cache.clear()


@dataclass(frozen=True)
class Order:
    """The sort of a list: `column dir, pk dir` (FAB's tie-breaker), or `pk dir` alone."""

    column: Any | None  # None: ordered by the primary key itself
    pk: Any
    ascending: bool

    @property
    def keys(self) -> list[Any]:
        return [self.pk] if self.column is None else [self.column, self.pk]

    def order_by(self, forward: bool = True) -> list[Any]:
        up = self.ascending if forward else not self.ascending
        return [k.asc() if up else k.desc() for k in self.keys]

    def beyond(self, key: tuple[Any, ...], forward: bool = True) -> Any:
        """Rows strictly after `key` in this order (before it when not `forward`). The columns are
        NOT NULL, so a row comparison is exact and PostgreSQL seeks with it on a btree index."""
        up = self.ascending if forward else not self.ascending
        left = tuple_(*self.keys) if len(self.keys) > 1 else self.keys[0]
        right = tuple_(*key) if len(key) > 1 else key[0]
        return left > right if up else left < right


def order_of(model: Any, order_column: str, order_direction: str) -> Order | None:
    """The keyset order for FAB's (order_column, order_direction), or None for OFFSET paging."""
    if not order_column:
        return None
    mapper = inspect(model)
    if len(mapper.primary_key) != 1:
        return None
    pk_col = mapper.primary_key[0]
    pk = getattr(model, mapper.get_property_by_column(pk_col).key)
    ascending = order_direction == "asc"  # FAB: anything else sorts descending
    prop = mapper.column_attrs.get(order_column)
    if prop is None or len(prop.columns) != 1 or hasattr(getattr(model, order_column), "_col_name"):
        return None
    column = prop.columns[0]
    if column is pk_col:
        return Order(None, pk, ascending)
    if column.nullable or not isinstance(column.table, Table):
        return None  # NULLs break the row comparison; keep OFFSET
    return Order(getattr(model, order_column), pk, ascending)


def _settings() -> tuple[int, float, float]:
    cfg = current_app.config
    return (int(cfg.get("CRM_KEYSET_MIN_OFFSET", 1000)), float(cfg.get("CRM_KEYSET_TTL", 60)),
            float(cfg.get("CRM_KEYSET_COUNT_FROM", 0.8)))


def _tables(statement: Any) -> list[str]:
    names = {node.name for node in visitors.iterate(statement) if isinstance(node, Table)}
    return sorted(names)


def _stamp(session: Any, tables: list[str]) -> tuple[Any, ...]:
    local = tuple(_generation.get(t, 0) for t in tables)
    if session.get_bind().dialect.name != "postgresql":
        return local
    counters = session.execute(_PG_COUNTERS, {"names": tables}).scalar()
    return local + (int(counters or 0),)


_PG_COUNTERS = text(
    "SELECT coalesce(sum(pg_stat_get_tuples_inserted(r) + pg_stat_get_tuples_updated(r)"
    " + pg_stat_get_tuples_deleted(r)), 0)"
    " FROM (SELECT to_regclass(n)::oid AS r FROM unnest(CAST(:names AS text[])) AS n) AS t WHERE r IS NOT NULL"
)


class Pager:
    """One page request: the filtered id query, its order and the anchors of its signature."""

    def __init__(self, session: Any, base: Any, order: Order) -> None:
        self.session = session
        self.base = base  # Query over the list's rows with every filter, no order, no limit
        self.order = order
        _min, self.ttl, self.count_from = _settings()
        statement = base.statement
        compiled = statement.compile(dialect=session.get_bind().dialect)
        self.tables = _tables(statement)
        params = tuple(sorted((k, repr(v)) for k, v in compiled.params.items()))
        self.signature = (str(compiled), params, tuple(str(k) for k in order.keys), order.ascending)

    # --- cache -------------------------------------------------------------------------------
    def _entry(self) -> _Entry:
        stamp = _stamp(self.session, self.tables)
        now = time.monotonic()
        with _lock:
            entry = _cache.get(self.signature)
            if entry is None or entry.stamp != stamp or now - entry.born > self.ttl:
                entry = _Entry(stamp, now)
                _cache[self.signature] = entry
                while len(_cache) > _MAX_SIGNATURES:
                    _cache.popitem(last=False)
            else:
                _cache.move_to_end(self.signature)
            return entry

    def _remember(self, entry: _Entry, anchors: dict[int, tuple[Any, ...]], total: int | None) -> None:
        with _lock:
            if len(entry.anchors) + len(anchors) > _MAX_ANCHORS:
                # Keep the newer half: recently visited pages are where the user is paging.
                kept = list(entry.anchors.items())[len(entry.anchors) // 2:]
                entry.anchors = dict(kept)
            entry.anchors.update(anchors)
            if total is not None:
                entry.total = total

    # --- queries -----------------------------------------------------------------------------
    def _seek(self, start: tuple[Any, ...] | None, forward: bool, skip: int, take: int) -> list[tuple[Any, ...]]:
        query = self.base.with_entities(*self.order.keys)
        if start is not None:
            query = query.filter(self.order.beyond(start, forward))
        rows = query.order_by(*self.order.order_by(forward)).offset(skip or None).limit(take).all()
        return [tuple(r) for r in rows]

    def _count(self) -> int:
        # A plain COUNT can run in parallel workers; walking the same rows in order cannot.
        sub = self.base.order_by(None).subquery()
        return int(self.session.execute(select(func.count()).select_from(sub)).scalar() or 0)

    # --- the page ----------------------------------------------------------------------------
    def page_keys(self, offset: int, size: int, count: int, exact: bool | None) -> list[tuple[Any, ...]]:
        """Sort keys of the rows at positions offset … offset+size-1. `count` is what the list
        shows: exact (`exact` True), PostgreSQL's estimate (False) or the count cap (None)."""
        entry = self._entry()
        total = entry.total
        kept = None  # a total found after the stamp was read, so it may be remembered with it
        if total is None and exact:
            total = count  # counted before the stamp was read: used for this page, not remembered
        elif total is None and exact is False and count and offset >= self.count_from * count:
            # Near the end: one exact count, then every page there is a short walk back from it.
            total = kept = self._count()
        if total is not None and offset >= total:
            self._remember(entry, {}, kept)
            return []
        end = offset + size if total is None else min(offset + size, total)
        with _lock:
            anchors = dict(entry.anchors)
        # The nearest known row before the page (-1: the start) and after it (the end, `total`,
        # counts as one when known).
        before = max((p for p in anchors if p < offset), default=-1)
        after = min((p for p in anchors if p >= end), default=total)
        # After a walk, one row more is read on the far side of the page: its neighbour becomes
        # an anchor too, so asking for this page again (a refresh) is a seek with no gap.
        found: dict[int, tuple[Any, ...]] = {}
        take = end - offset
        if after is not None and after - end < offset - before - 1:
            gap = after - end
            rows = self._seek(anchors.get(after), False, max(gap - 1, 0), take + (gap > 0))  # None: the end
            if gap and rows:
                found[end] = rows.pop(0)
            rows.reverse()
        else:
            gap = offset - before - 1
            start = anchors[before] if before >= 0 else None
            rows = self._seek(start, True, max(gap - 1, 0), take + (gap > 0))
            if gap and rows:
                found[offset - 1] = rows.pop(0)
            if (gap == 0 or found) and len(rows) < take:
                kept = offset + len(rows)
        if rows:
            found[offset] = rows[0]
            found[offset + len(rows) - 1] = rows[-1]
        self._remember(entry, found, kept)
        return rows


def min_offset() -> int:
    """Below this offset plain OFFSET is as cheap as a seek (a few hundred index entries)."""
    return _settings()[0]


def page_ids(session: Any, base: Any, order: Order, offset: int, size: int, count: int,  # noqa: PLR0913
             exact: bool | None) -> list[Any]:
    """The primary keys of the rows at positions offset … offset+size-1 of `base` in `order`."""
    return [key[-1] for key in Pager(session, base, order).page_keys(offset, size, count, exact)]
