"""Export test helpers: customers built through the services, and readers for downloaded files."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models.audit_log import AuditLog


def read_csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")  # BOM: Excel opens Chinese text correctly
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(data: bytes) -> list[list[Any]]:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return [list(r) for r in wb.active.iter_rows(values_only=True)]


def last_export_audit(entity: str | None = None) -> AuditLog | None:
    stmt = select(AuditLog).where(AuditLog.action == "export")
    if entity is not None:
        stmt = stmt.where(AuditLog.entity == entity)
    return db.session.execute(stmt.order_by(AuditLog.id.desc())).scalars().first()
