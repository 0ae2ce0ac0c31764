"""`customer_name_gram`: the characters and character pairs of each customer's lower-cased name, one
row each, keyed (gram, customer_id), kept by triggers on `customer` (migration 0026, PostgreSQL only).

A list whose only filter is a 1–2 character name search reads it index-only
(`app.views.datamodel`). It is not on FAB's model metadata, because SQLite has no such table. A
lightweight table is enough to query it, and its name tells the logical restore to put the file's
rows back after the customers' triggers have written their own (`app.services.backup`).
"""

from __future__ import annotations

from sqlalchemy import column, table

NAME_GRAM = table("customer_name_gram", column("gram"), column("customer_id"))
