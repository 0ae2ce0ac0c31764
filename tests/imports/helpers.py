"""Builders for import files: CSV in any encoding and XLSX, with valid resident IDs and mobiles."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from app.services.identity import make_id_number


def person(n: int, gender: str = "M") -> dict[str, str]:
    """A valid person: ID number (Beijing Chaoyang, born 1980+n days), mobile 1391000nnnn."""
    return {"name": f"导入客户{n}", "id_number": make_id_number("110105", dt.date(1980, 1, 1) + dt.timedelta(days=n),
                                                              n, gender),
            "mobile": f"1391000{n:04d}"}


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]], encoding: str = "utf-8") -> bytes:
    lines = [",".join(header)] + [",".join(str(c) for c in r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
