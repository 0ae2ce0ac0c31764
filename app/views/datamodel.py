"""FAB's SQLAlchemy interface, tuned for tables with millions of rows.

Stock FAB counts every matching row (`COUNT(*)`) and pages with `OFFSET` over the full rows on
every list request. Here:

- the row-rule base filter (`CustomerAccessFilter`) counts as "no filter" when the actor sees
  every row, so an unfiltered list on PostgreSQL uses the planner's row estimate (`reltuples`)
  instead of counting a million rows;
- any other filtered count stops at `CRM_COUNT_CAP` (the pager then offers that many rows' pages);
- a page is read as a narrow id-only query (an index-only scan where the visibility map allows),
  and only those ids' rows are then loaded ("deferred join"); a deep page seeks from a remembered
  anchor row instead of walking an OFFSET (`app/views/keyset.py`, same rows as OFFSET).

FAB's pager, ordering, filters and select-column options keep working unchanged.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_appbuilder.models.filters import Filters
from flask_appbuilder.models.sqla.filters import FilterContains, FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import Select, Text, cast, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.orm import Load, joinedload

from app.models.customer_name_gram import NAME_GRAM
from app.security.access import CustomerAccessFilter, owner_scope
from app.security.current import current_actor
from app.views import keyset, page_cache


def _sees_all_rows() -> bool:
    return owner_scope(current_actor()) is None


def count_cap() -> int:
    """Lists count matching rows up to this many; beyond it the pager says "at least" (CRM_COUNT_CAP)."""
    return int(current_app.config.get("CRM_COUNT_CAP", 10000))


# Columns whose 1–2 character "contains" PostgreSQL answers from the characters and character pairs
# of their values: a `crm_grams()` GIN index (migration 0003), and the grams of the lower-cased values
# as rows of a table keyed (gram, id) (migration 0026), which serves a list whose only filter is that
# search index-only.
GRAM_INDEXED = {("customer", "name"): NAME_GRAM}


class CrmSQLAInterface(SQLAInterface):
    # Many-to-one relations a list page shows (its view sets them): loaded with the page's rows in
    # the same query. FAB's page query leaves them lazy, one query per distinct plan, owner… a page.
    list_relations: tuple[str, ...] = ()

    def eager_load_for_list(self, columns: list[str]) -> None:
        roots = dict.fromkeys(c.split(".")[0] for c in columns)
        self.list_relations = tuple(c for c in roots if self.is_relation_many_to_one(c))

    def apply_filters(self, query: Any, filters: Filters | None) -> Any:
        """FAB's filters, except that a 1–2 character "contains" on a gram-indexed column also
        asks the gram index (pg_trgm cannot serve terms that short). Same rows, found by index."""
        if not filters:
            return query
        for flt, values in zip(filters.filters, filters.values, strict=False):
            for value in self._values_of(flt, values):
                query = flt.apply(query, value)
                if self._gram_term(flt, value):
                    column_ = getattr(self.obj, flt.column_name)
                    grams = cast(array([value]), ARRAY(Text))  # text[] on both sides of @>
                    query = query.filter(func.crm_grams(column_).op("@>")(grams))
        return query

    @staticmethod
    def _values_of(flt: Any, values: Any) -> list[Any]:
        many = isinstance(values, list) and flt.arg_name not in {"in", "not_in"}
        return values if many else [values]

    def _gram_term(self, flt: Any, value: Any, *, any_case: bool = False) -> bool:
        """A "contains" the grams answer exactly: 1–2 characters (every such substring is a gram)
        without the `%` and `_` that FAB's ILIKE takes as wildcards (or `\\`, its escape). The GIN
        index keeps case, so it serves only terms without case; the gram table holds lower-cased
        grams (`any_case`), looked up as ILIKE folds: `lower(term)`."""
        return (
            isinstance(flt, FilterContains)
            and (self.obj.__tablename__, flt.column_name) in GRAM_INDEXED
            and isinstance(value, str)
            and 1 <= len(value) <= 2
            and (any_case or value.lower() == value.upper())
            and not any(ch in value for ch in "%_\\")
            and self.session.get_bind().dialect.name == "postgresql"
        )

    def _effective(self, filters: Filters | None) -> list[tuple[Any, Any]]:
        """(filter, value) pairs that actually narrow the rows (the row rule drops out for
        all-rows actors)."""
        if not filters or not getattr(filters, "filters", None):
            return []
        active = []
        all_rows = None
        for flt, value in zip(filters.filters, filters.values, strict=False):
            if isinstance(flt, CustomerAccessFilter):
                if all_rows is None:
                    all_rows = _sees_all_rows()
                if all_rows:
                    continue
            active.append((flt, value))
        return active

    def effective_filters(self, filters: Filters | None) -> list[Any]:
        """Filters that actually narrow the rows (the row rule drops out for all-rows actors)."""
        return [flt for flt, _value in self._effective(filters)]

    def _only_gram_search(self, filters: Filters | None) -> Select | None:
        """The ids matching `filters` read from the gram table alone, when one short name search is
        all they ask: an index-only scan instead of reading every matching customer row."""
        active = self._effective(filters)
        if len(active) != 1:
            return None
        flt, values = active[0]
        values = self._values_of(flt, values)
        if len(values) != 1 or not self._gram_term(flt, values[0], any_case=True):
            return None
        grams = GRAM_INDEXED[(self.obj.__tablename__, flt.column_name)]
        return select(grams.c.customer_id).where(grams.c.gram == func.lower(values[0]))

    def _estimate(self) -> int | None:
        """PostgreSQL's row estimate for the table, read at most every CRM_ESTIMATE_TTL seconds
        per process: it only moves when (auto)vacuum or ANALYZE runs, so a query a page for it
        buys nothing."""
        name = self.obj.__tablename__
        ttl = float(current_app.config.get("CRM_ESTIMATE_TTL", 10))
        return page_cache.get(("row-estimate", name), lambda: self._read_estimate(name), ttl=ttl)

    def _read_estimate(self, name: str) -> int | None:
        row = self.session.execute(
            text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"), {"t": name},
        ).scalar()
        return int(row) if row is not None and row >= 0 else None

    def query_count(self, query: Any, filters: Any = None, select_columns: Any = None) -> int:
        return self._count(query, filters)[0]

    def _count(self, query: Any, filters: Any) -> tuple[int, bool | None]:
        """The count the pager shows, and whether it is exact: True, False (the planner's
        estimate) or None (the cap: at least this many)."""
        cap = count_cap()
        session = self.session
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql" and not self.effective_filters(filters):
            estimate = self._estimate()
            if estimate is not None and estimate > cap:
                return estimate, False
        limited = self._capped_ids(query, filters, cap).subquery()
        count = int(session.execute(select(func.count()).select_from(limited)).scalar() or 0)
        return count, True if count <= cap else None

    def _capped_ids(self, query: Any, filters: Any, cap: int, descending: bool | None = None) -> Select:
        """The ids of `query`'s rows that match `filters`, at most `cap` + 1 of them (one more
        than the cap says "more than the cap"), in no order; except that ids read from a gram
        table come in id order (`descending`, if given), which its index gives for free."""
        grams = self._only_gram_search(filters)
        if grams is not None:
            if descending is not None:
                ident = grams.selected_columns[0]
                grams = grams.order_by(ident.desc() if descending else ident.asc())
            return grams.limit(cap + 1)
        base = self._apply_inner_all(query, filters, select_columns=None, aliases_mapping={})
        return base.order_by(None).with_entities(self.obj.id).limit(cap + 1).statement

    def query(  # noqa: PLR0913 - FAB's signature
        self,
        filters: Filters | None = None,
        order_column: str = "",
        order_direction: str = "",
        page: int | None = None,
        page_size: int | None = None,
        select_columns: list[str] | None = None,
        outer_default_load: bool = False,
    ) -> tuple[int, list[Any]]:
        pk_name = self.get_pk_name()
        to_many = bool(select_columns and self.exists_col_to_many(select_columns))
        if not page_size or not isinstance(pk_name, str) or to_many:
            return super().query(filters, order_column, order_direction, page, page_size, select_columns,
                                 outer_default_load)
        if not page and self._matches_at_most_one(filters):
            # An exact search on a unique key (mobile, resident ID): one query, no count.
            items = self._unwrap(self.apply_all(self.session.query(self.obj), filters, order_column,
                                                order_direction, 0, page_size, select_columns).all())
            return len(items), items
        pk = getattr(self.obj, pk_name)
        one_pass = self._ids_in_one_pass(filters, order_column, order_direction, page, page_size)
        if one_pass is not None:
            count, ids = one_pass
            exact = True if ids is not None else None
        else:
            count, exact = self._count(self.session.query(self.obj), filters)
            ids = None
        # 1) the page's ids only: narrow rows; a deep page seeks from a remembered anchor (keyset),
        #    else an index-friendly ORDER BY … OFFSET … LIMIT.
        if ids is None:
            ids = self._keyset_ids(filters, order_column, order_direction, page, page_size, (count, exact))
        if ids is None:
            ids_query = self._apply_inner_all(
                self.session.query(self.obj).with_entities(pk), filters, order_column, order_direction,
                page, page_size, select_columns=None, aliases_mapping={},
            )
            ids = [row[0] for row in ids_query.all()]
        if not ids:
            return count, []
        # 2) the wide rows for those ids, with FAB's select-column options (joins, load_only).
        rows_query = self.apply_inner_select_joins(self.session.query(self.obj), select_columns, {})
        if not select_columns and self.list_relations:
            rows_query = rows_query.options(*(joinedload(getattr(self.obj, r)) for r in self.list_relations))
        result = self._unwrap(rows_query.filter(pk.in_(ids)).all())
        position = {value: i for i, value in enumerate(ids)}
        result.sort(key=lambda item: position.get(getattr(item, pk_name), len(position)))
        return count, result

    def _ids_in_one_pass(self, filters: Filters | None, order_column: str, order_direction: str,  # noqa: PLR0913
                         page: int | None, page_size: int) -> tuple[int, list[Any] | None] | None:
        """A search ordered by id: its count and page from one query. The count query reads the
        matching ids up to the cap anyway; when they are all there (count ≤ cap), ordering them
        gives every page, and the matching rows are read once instead of twice: a two-character
        name ("秀荣", ~8,700 of a million customers) went from two 30 ms passes over the heap to
        one. The database orders and counts them (`count(*) OVER ()`): only the page's ids
        travel, not 8,700 rows through the driver (~8 ms). Returns (count, page ids), or
        (capped count, None) when the page still has to be queried, or None when this does not
        apply (no filter, another order, a page beyond the cap)."""
        cap = count_cap()
        offset = (page or 0) * page_size
        if (order_column not in ("", self.get_pk_name()) or offset + page_size > cap
                or not self.effective_filters(filters)):
            return None
        descending = order_direction == "desc"
        capped = self._capped_ids(self.session.query(self.obj), filters, cap, descending).subquery()
        ident = capped.c[0]
        rows = self.session.execute(
            select(ident, func.count().over())
            .order_by(ident.desc() if descending else ident.asc())
            .offset(offset).limit(page_size)
        ).all()
        if rows:
            count = int(rows[0][1])
        else:  # past the last match (or none): the count alone
            count = int(self.session.execute(select(func.count()).select_from(capped)).scalar() or 0) if offset else 0
        if count > cap:
            return count, None
        return count, [row[0] for row in rows]

    def apply_inner_select_joins(self, query: Any, select_columns: list[str] | None = None,
                                 aliases_mapping: dict[str, Any] | None = None) -> Any:
        """FAB's, with the plain columns in one `load_only`: FAB adds one per column, and each
        `.options()` copies the query (about 1 ms for the API's 18 customer columns)."""
        if not select_columns:
            return query
        plain = [c for c in select_columns if "." not in c]
        attrs = [getattr(self.obj, c) for c in plain
                 if not self.is_relation(c) and not self.is_property_or_function(c)]
        if attrs:
            query = query.options(Load(self.obj).load_only(*attrs))
        dotted = [c for c in select_columns if "." in c]
        return super().apply_inner_select_joins(query, dotted, aliases_mapping) if dotted else query

    def _unwrap(self, rows: list[Any]) -> list[Any]:
        name = self.obj.__name__
        return [getattr(row, name) if hasattr(row, name) else row for row in rows]

    def _matches_at_most_one(self, filters: Filters | None) -> bool:
        """An equality on a unique column (or a filter that says it matches one row at most)."""
        for flt in self.effective_filters(filters):
            if getattr(flt, "matches_at_most_one", False):
                return True
            if type(flt) is FilterEqual and "." not in flt.column_name:
                # A column, or a hybrid comparing one (`id_number` compares the blind index).
                attr = getattr(self.obj, flt.column_name, None)
                clause = attr.__clause_element__() if hasattr(attr, "__clause_element__") else None
                # NOT NULL too: `= NULL` (a JSON null value) is `IS NULL`, which a nullable unique
                # column matches many times.
                if getattr(clause, "primary_key", False) or (
                        getattr(clause, "unique", False) and getattr(clause, "nullable", True) is False):
                    return True
        return False

    def _keyset_ids(self, filters: Filters | None, order_column: str, order_direction: str,  # noqa: PLR0913
                    page: int | None, page_size: int, counted: tuple[int, bool | None]) -> list[Any] | None:
        order = keyset.order_of(self.obj, order_column, order_direction)
        offset = (page or 0) * page_size
        if order is None or offset < keyset.min_offset():
            return None
        base = self._apply_inner_all(self.session.query(self.obj).with_entities(order.pk), filters,
                                     select_columns=None, aliases_mapping={})
        return keyset.page_ids(self.session, base, order, offset, page_size, *counted)
