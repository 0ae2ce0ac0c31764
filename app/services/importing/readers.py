"""File reading for imports: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) and XLSX, as rows of text.

Every failure is an `Invalid({"file": message})` for the user; nothing here touches the database.
Cells are returned as text exactly as written: an XLSX formula such as `=CMD()` is read as its
formula text (never evaluated) and stays plain data; exports neutralise it (`exports.safe_cell`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from app.services.errors import Invalid

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 200_000
MAX_COLUMNS = 200
MAX_CELL = 2000


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number in the file, cells); blank rows dropped
    encoding: str


def limits() -> tuple[int, int]:
    cfg = current_app.config
    return (int(cfg.get("CRM_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)),
            int(cfg.get("CRM_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)))


def _file_error(message: str) -> Invalid:
    return Invalid({"file": message})


def read_table(filename: str, data: bytes, max_bytes: int | None = None, max_rows: int | None = None) -> Table:
    """The header and data rows of an uploaded file; blank rows are dropped."""
    if max_bytes is None or max_rows is None:
        dflt_bytes, dflt_rows = limits()
        max_bytes = dflt_bytes if max_bytes is None else max_bytes
        max_rows = dflt_rows if max_rows is None else max_rows
    name = (filename or "").lower()
    if not name.endswith((".csv", ".xlsx")):
        raise _file_error(_("Upload a .csv or .xlsx file."))
    if len(data) > max_bytes:
        raise _file_error(_("The file is too large (%(size)d MB); the limit is %(limit)d MB.",
                            size=-(-len(data) // (1024 * 1024)), limit=max(1, max_bytes // (1024 * 1024))))
    if not data.strip():
        raise _file_error(_("The file is empty."))
    if name.endswith(".xlsx"):
        values, encoding = _read_xlsx(data, max_rows), "xlsx"
    else:
        values, encoding = _read_csv(data, max_rows)
    if not values:
        raise _file_error(_("The file is empty."))
    header = [_clean_cell(h) for h in values[0]]
    if not any(header):
        raise _file_error(_("The first row must name the columns."))
    if len(header) > MAX_COLUMNS:
        raise _file_error(_("At most %(n)d columns per file.", n=MAX_COLUMNS))
    rows = []
    for number, raw in enumerate(values[1:], start=2):
        cells = [_clean_cell(c) for c in raw[:len(header)]]
        if any(cells):
            cells += [""] * (len(header) - len(cells))
            rows.append((number, cells))
    if not rows:
        raise _file_error(_("The file has no data rows."))
    return Table(header=header, rows=rows, encoding=encoding)


def _too_many(max_rows: int) -> Invalid:
    return _file_error(_("The file has more than %(n)d rows; split it into smaller files.", n=max_rows))


def _decode(data: bytes) -> tuple[str, str]:
    # UTF-8 first (a BOM is dropped); Excel on Chinese Windows saves CSV as GBK, and GB18030 is
    # its superset, so a file that is not UTF-8 is tried as GB18030.
    try:
        return data.decode("utf-8-sig"), ("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        raise _file_error(_("The CSV file must be encoded as UTF-8 or GBK.")) from None


def _read_csv(data: bytes, max_rows: int) -> tuple[list[list[str]], str]:
    text, encoding = _decode(data)
    if "\x00" in text:
        raise _file_error(_("The file is not a CSV text file."))
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        values = []
        for row in reader:
            values.append(row)
            if len(values) > max_rows + 1:
                raise _too_many(max_rows)
    except csv.Error:
        raise _file_error(_("The CSV file is malformed (line %(n)d).", n=reader.line_num)) from None
    return values, encoding


def _read_xlsx(data: bytes, max_rows: int) -> list[list[str]]:
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _file_error(_("The file is not a readable XLSX workbook."))
    try:
        # read_only streams the sheet; data_only=False keeps a formula's text instead of a cached result.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            sheet = book.active if book.active is not None else book.worksheets[0]
            values = []
            for row in sheet.iter_rows(values_only=True):
                values.append(list(row[:MAX_COLUMNS + 1]))
                if len(values) > max_rows + 1:
                    raise _too_many(max_rows)
        finally:
            book.close()
    except Invalid:
        raise
    except Exception:  # noqa: BLE001 - any unreadable workbook is the user's file problem
        raise _file_error(_("The file is not a readable XLSX workbook.")) from None
    return values


def _clean_cell(value: object) -> str:
    """A cell as text: integral numbers without `.0` (a mobile typed as a number), dates ISO."""
    if value is None:
        return ""
    if not isinstance(value, (str, int, float, dt.date)) and isinstance(getattr(value, "text", None), str):
        value = value.text  # an array formula: its text, like any other formula
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        value = int(value) if value.is_integer() and abs(value) < 1e18 else repr(value)
    if isinstance(value, dt.datetime):
        value = value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    elif isinstance(value, dt.date):
        value = value.isoformat()
    text = str(value).replace("\x00", "").strip()
    return text[:MAX_CELL]
