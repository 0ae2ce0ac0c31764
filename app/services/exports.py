"""CSV and XLSX exports of any table of rows, streamed so size does not cost memory.

Every list, chart and report exports through here, so formula neutralising, the file formats and
the download headers are decided once. Callers pass a header and an iterable of rows (generators
are fine: rows are consumed one at a time); auditing the export is the caller's job because only
it knows what was exported and under which filters.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from flask import Response

from app.services.errors import Invalid

FORMATS = ("csv", "xlsx")
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection, OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def check_format(fmt: str | None) -> str:
    """The export format asked for, or a field error naming `format`."""
    value = (fmt or "csv").strip().lower()
    if value not in FORMATS:
        raise Invalid({"format": "Export format must be csv or xlsx."})
    return value


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet shows as text, never runs: formula-like strings get a leading quote.

    Numbers stay numbers (a negative amount is data, not a formula); only text is neutralised.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float, Decimal, date, datetime)):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _csv_value(value: Any) -> str:
    value = safe_cell(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def iter_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], chunk_rows: int = 2000) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM (so Excel opens Chinese text correctly), yielded in chunks."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow([_csv_value(h) for h in header])
    for n, row in enumerate(rows, start=1):
        writer.writerow([_csv_value(v) for v in row])
        if n % chunk_rows == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def _xlsx_value(value: Any) -> Any:
    value = safe_cell(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def iter_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "export",
              chunk: int = 1 << 16) -> Iterator[bytes]:
    """An XLSX workbook written row by row (openpyxl write-only mode) to a temporary file, then streamed.

    Write-only mode keeps memory flat whatever the row count; the file is removed when streamed.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet[:31] or "export")
    ws.append([str(h) for h in header])
    for row in rows:
        ws.append([_xlsx_value(v) for v in row])
    with tempfile.TemporaryFile(suffix=".xlsx") as fh:
        wb.save(fh)
        fh.seek(0)
        while True:
            data = fh.read(chunk)
            if not data:
                break
            yield data


def export_response(fmt: str, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
                    sheet: str = "export") -> Response:
    """A streamed download of `rows` as `filename.csv` or `filename.xlsx` (format already checked)."""
    body = iter_csv(header, rows) if fmt == "csv" else iter_xlsx(header, rows, sheet=sheet)
    name = f"{filename}.{fmt}"
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    resp = Response(body, mimetype=_MIME[fmt].split(";")[0], content_type=_MIME[fmt])
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp
