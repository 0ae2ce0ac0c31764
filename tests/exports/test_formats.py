"""The file formats themselves: formula neutralising, XLSX written by hand that openpyxl reads back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.services import exports
from tests.exports.conftest import read_csv, read_xlsx

HEADER = ["text", "number", "date", "when", "money", "empty"]
ROWS = [
    ["=HYPERLINK(\"http://x\")", 1, dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 8, 30, 15), Decimal("-12.50"), None],
    ["+1", -5, None, None, Decimal("0.10"), ""],
    ["-2", 2.5, None, None, None, None],
    ["@SUM(A1)", 0, None, None, None, None],
    ["a & b < c > \"d\"\x01\x1f", True, None, None, None, None],
    ["普通文本", float("nan"), None, None, None, None],
]


def test_safe_cell_neutralises_formulas_but_keeps_numbers() -> None:
    for text in ("=1+1", "+1", "-1", "@x", "\tx", "\rx"):
        assert exports.safe_cell(text) == "'" + text
    assert exports.safe_cell(-3) == -3 and exports.safe_cell(Decimal("-1.5")) == Decimal("-1.5")
    assert exports.safe_cell("ok") == "ok" and exports.safe_cell(None) == ""


def test_csv_is_neutralised_and_has_a_bom() -> None:
    rows = read_csv(b"".join(exports.iter_csv(HEADER, iter(ROWS), chunk_rows=2)))
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:5]] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)"]
    assert rows[1][1:5] == ["1", "2026-03-01", "2026-03-01 08:30:15", "-12.50"]


def test_xlsx_opens_with_openpyxl_with_types_kept() -> None:
    sheet = read_xlsx(b"".join(exports.iter_xlsx(HEADER, iter(ROWS), sheet="客户/导出", chunk=64)))
    assert sheet[0] == HEADER and len(sheet) == 1 + len(ROWS)
    assert [r[0] for r in sheet[1:5]] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)"]
    assert sheet[1][1] == 1 and sheet[1][2] == dt.datetime(2026, 3, 1)
    assert sheet[1][3] == dt.datetime(2026, 3, 1, 8, 30, 15) and sheet[1][4] == -12.5
    assert sheet[2][1] == -5 and sheet[3][1] == 2.5
    assert sheet[5][0] == "a & b < c > \"d\""  # XML-escaped, characters XML cannot carry dropped
    assert sheet[6][0] == "普通文本" and sheet[6][1] is None


def test_xlsx_streams_before_the_last_row_is_read() -> None:
    read = []

    def rows():  # noqa: ANN202
        for i in range(20000):
            read.append(i)
            yield [f"row {i}", i]

    body = exports.iter_xlsx(["a", "b"], rows(), chunk=1024)
    chunks = [next(body), next(body)]  # the archive's fixed parts, then the first part of the sheet
    assert 0 < len(read) < 20000
    chunks += list(body)
    sheet = read_xlsx(b"".join(chunks))
    assert len(sheet) == 1 + 20000 and sheet[-1] == ["row 19999", 19999]
