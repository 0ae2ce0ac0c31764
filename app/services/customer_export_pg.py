"""The customer export on PostgreSQL: the list's own query, sent by `COPY … TO STDOUT`.

The Python path (`list_export.customer_rows` → `exports.iter_csv/iter_xlsx`) fetches tuples
through a server-side cursor: each batch is a round trip during which one side idles, and every
cell is built in Python. Here the same filtered, ordered, row-ruled query is wrapped in
`COPY (SELECT …) TO STDOUT`, with the masking and formula neutralising written as SQL
expressions: the server streams rows while this process writes them out, in parallel.

- CSV: the server writes the lines (`FORMAT csv`); this process only forwards the bytes.
- XLSX: the server sends the values (`FORMAT text`, dates as Excel serials) and `XlsxRows`
  writes the sheet XML; a formula-bearing value stays text because of the server's prefix.

The rules are the Python path's, expression for expression (tests compare the two files cell
for cell on awkward data): `mobile` masked as `masking.mask_mobile`, `id_number` the stored
masked copy, text starting with `= + - @`, tab or CR prefixed with `'` (`exports.safe_cell`),
XML-illegal characters dropped and `& < > "` escaped (`exports._xlsx_cell`).

Rows are counted by COPY message: the server sends one message per row (protocol "COPY Out"),
so an abandoned download is audited with the exact number of rows read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Date, DateTime, Float, Integer, String, case, extract, func, literal_column
from sqlalchemy.orm import Query, aliased
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models.customer import Customer
from app.models.user import CrmUser
from app.services import exports

BATCH_ROWS = 2000
_FORMULA_CODES = "(9, 13, 43, 45, 61, 64)"  # ascii() of tab, CR, + - = @ (exports._FORMULA_START)
_STR_OPEN = '<c t="inlineStr"><is><t xml:space="preserve">'
_STR_CLOSE = "</t></is></c>"


def available() -> bool:
    """COPY needs PostgreSQL (psycopg 3) sending UTF-8; anything else takes the Python path."""
    conn = db.session.connection()
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return False
    return conn.connection.driver_connection.info.encoding == "utf-8"


def _sql(text: str) -> ColumnElement[str]:
    return literal_column(text, String)


def _lit(text: str) -> ColumnElement[str]:
    """A constant string rendered into the SQL (no bind parameter; none of ours holds `%` or `'`)."""
    return _sql("'" + text + "'")


def _int(n: int) -> ColumnElement[int]:
    return literal_column(str(n), Integer)


def _formula_prefix(col: Any) -> ColumnElement[str]:
    """`'` before text whose first character a spreadsheet reads as a formula (`exports.safe_cell`)."""
    return case((func.ascii(col).op("IN")(_sql(_FORMULA_CODES)), _lit("''")), else_=_lit(""))


def _masked_mobile(col: Any) -> ColumnElement[str]:
    """`masking.mask_mobile`: first 3 and last 4 kept, stars between; short values all stars."""
    n = func.length(col, type_=Integer)
    return case(
        (n < _int(7), func.repeat(_lit("*"), n, type_=String)),
        else_=func.left(col, _int(3), type_=String) + func.repeat(_lit("*"), n - _int(7), type_=String)
        + func.right(col, _int(4), type_=String),
    )


def _columns(query: Query) -> tuple[Query, list[ColumnElement[Any]]]:
    """The query joined to the owner and the contract's fields (`list_export.CUSTOMER_FIELDS`), masked."""
    owner = aliased(CrmUser)
    query = query.outerjoin(owner, Customer.owner_id == owner.id)
    return query, [
        Customer.name, Customer.gender, Customer.birth_date, Customer.id_number_masked,
        _masked_mobile(Customer.mobile), Customer.landline, Customer.email, Customer.address,
        Customer.city, Customer.segment, owner.username, Customer.status, Customer.created_at,
    ]


def _csv_cell(col: Any) -> ColumnElement[Any]:
    kind = getattr(col, "type", None)
    if isinstance(kind, DateTime):
        return func.to_char(col, _lit("YYYY-MM-DD HH24:MI:SS"))  # isoformat(sep=" ", timespec="seconds")
    if isinstance(kind, Date):
        return func.to_char(col, _lit("YYYY-MM-DD"))
    # NULLIF: COPY writes NULL as an empty field but '' as `""`; the Python path writes both empty.
    return func.nullif(_formula_prefix(col) + col, _lit(""))


def _xlsx_value(col: Any) -> ColumnElement[Any]:
    """A cell's raw value for `XlsxRows`: text as stored, dates as Excel serial numbers."""
    kind = getattr(col, "type", None)
    if isinstance(kind, DateTime):
        epoch = literal_column("TIMESTAMP '1899-12-30'", DateTime)
        return extract("epoch", col - epoch).cast(Float) / literal_column("CAST(86400 AS DOUBLE PRECISION)", Float)
    if isinstance(kind, Date):
        return col - literal_column("DATE '1899-12-30'", Date)
    # The formula prefix here (cheap for the server, and it spares this process a scan for field starts).
    return case((func.ascii(col).op("IN")(_sql(_FORMULA_CODES)), _lit("''") + col), else_=col)


_TEXT_CELL = (_STR_OPEN + "%s" + _STR_CLOSE).encode()
_NUMBER_CELL = {1: b'<c s="1"><v>%s</v></c>', 2: b'<c s="2"><v>%s</v></c>'}
# Bytes that make a chunk need the careful path: XML-special or -illegal, COPY's backslash escapes and
# control characters (tab and newline are COPY's separators); U+FFFE/U+FFFF begin with EF BF.
_CAREFUL_BYTES = bytes([*range(0x09), *range(0x0b, 0x20)]) + b'&<>"\\'
_COPY_ESCAPES = {b"\\": b"\\", b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}
_COPY_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)


class XlsxRows:
    """Sheet rows from COPY's text format (one line per row, tab-separated, NULL as empty).

    The database sends the values (text already formula-neutralised, dates as Excel serials),
    this process writes the XML: a chunk without any byte that needs care (the common case) is
    formatted line by line with one `%` template and its empty cells replaced on the whole chunk;
    a chunk with such bytes goes line by line through `exports._xlsx_cell`, the Python path's own
    cell writer (a value starting with the prefix `'` gets no second one).
    """

    def __init__(self, kinds: list[int]) -> None:  # per column: 0 text, 1 date, 2 date and time
        self.kinds = kinds
        self.template = b"<row>" + b"".join(_NUMBER_CELL.get(k, _TEXT_CELL) for k in kinds) + b"</row>"
        self.empties = [self._cell(k, b"") for k in set(kinds)]

    def _cell(self, kind: int, value: bytes) -> bytes:
        return (_NUMBER_CELL.get(kind, _TEXT_CELL)) % value

    def __call__(self, chunk: bytes) -> bytes:
        lines = chunk.split(b"\n")
        lines.pop()  # every line ends with a newline
        careful = len(chunk.translate(None, _CAREFUL_BYTES)) != len(chunk) or b"\xef\xbf" in chunk
        template = self.template
        if not careful:
            out = b"".join([template % tuple(line.split(b"\t")) for line in lines])
        else:
            out = b"".join([self._careful(line) for line in lines])
        for empty in self.empties:
            out = out.replace(empty, b"<c/>")
        return out

    def _careful(self, line: bytes) -> bytes:
        cells = []
        for kind, raw in zip(self.kinds, line.split(b"\t"), strict=True):
            if b"\\" in raw:
                raw = _COPY_ESCAPE.sub(lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), raw)
            if kind or not raw:
                cells.append(self._cell(kind, raw))
            else:
                cells.append(exports._xlsx_cell(raw.decode("utf-8")).encode("utf-8"))  # noqa: SLF001
        return b"<row>" + b"".join(cells) + b"</row>"


def copy_sql(query: Query, fmt: str) -> tuple[str, dict[str, Any]]:
    """`COPY (the list's query, formatted) TO STDOUT` and its parameters (bound client-side by psycopg)."""
    query, columns = _columns(query)
    if fmt == "csv":
        stmt = query.with_entities(*(_csv_cell(c) for c in columns)).statement
        options = "WITH (FORMAT csv)"
    else:
        stmt = query.with_entities(*(_xlsx_value(c) for c in columns)).statement
        options = "WITH (FORMAT text, NULL '')"
    dialect = db.session.get_bind().dialect
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    processors = compiled._bind_processors  # noqa: SLF001 - the values as SQLAlchemy would send them
    params = {k: processors[k](v) if k in processors else v for k, v in params.items()}
    return f"COPY ({compiled.string}) TO STDOUT {options}", params


class CopyRows:
    """The COPY output in chunks of about `BATCH_ROWS` rows; `rows` counts the rows handed out."""

    def __init__(self, query: Query, fmt: str) -> None:
        self.sql, self.params = copy_sql(query, fmt)
        if fmt == "csv":
            self.finish: Any = bytes
        else:
            kinds = [2 if isinstance(getattr(c, "type", None), DateTime) else 1
                     if isinstance(getattr(c, "type", None), Date) else 0 for c in _columns(query)[1]]
            self.finish = XlsxRows(kinds)
        self.rows = 0

    def __iter__(self) -> Iterator[bytes]:
        raw = db.session.connection().connection.driver_connection
        if not self.params:
            # psycopg binds client-side only when there are parameters; the SQL's `%%` needs it.
            self.sql = self.sql.replace("%%", "%")
        with raw.cursor() as cur, cur.copy(self.sql, self.params or None) as copy:
            parts: list[Any] = []
            for data in copy:  # one message per row
                parts.append(data)
                if len(parts) >= BATCH_ROWS:
                    self.rows += len(parts)
                    yield self.finish(b"".join(parts))
                    parts.clear()
            if parts:
                self.rows += len(parts)
                yield self.finish(b"".join(parts))
