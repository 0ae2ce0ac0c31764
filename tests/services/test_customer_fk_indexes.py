"""Every foreign key to customer is indexed: the 360 page and a customer merge read each of them by
customer id, and on a million customers an unindexed one turns those into full scans."""

from __future__ import annotations

from flask_appbuilder import Model

import app.models  # noqa: F401 - every table registered on FAB's metadata


def _leading_columns(table) -> set[str]:  # noqa: ANN001
    firsts = {next(iter(index.columns)).name for index in table.indexes if index.columns}
    for constraint in table.constraints:
        columns = list(getattr(constraint, "columns", []))
        if columns and type(constraint).__name__ in ("UniqueConstraint", "PrimaryKeyConstraint"):
            firsts.add(columns[0].name)
    return firsts | {c.name for c in table.columns if c.index}


def test_every_foreign_key_to_customer_leads_an_index() -> None:
    missing = [f"{t.name}.{fk.parent.name}" for t in Model.metadata.sorted_tables for fk in t.foreign_keys
               if fk.column.table.name == "customer" and fk.parent.name not in _leading_columns(t)]
    assert missing == []
