"""Bulk paths for `crm seed`: row loading and the set-based monthly stage.

Rows generated in Python go in with PostgreSQL `COPY` (psycopg 3) or batched `executemany` on
SQLite, on one raw DBAPI connection and in one transaction. Monthly facts (usage, bill lines,
bills, payments) are then derived in SQL from per-line traits (`seed_line`) crossed with the billed
months (`seed_month`), with a deterministic integer hash standing in for randomness, so both
databases run the same statements and the same seed gives the same amounts. Money is computed in
integer cents and stored as exact decimals (`cents / 100.0`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from app.extensions import db

P = 2147483629  # a prime below 2^31: products of two residues stay inside 64-bit integers

BULK_TABLES = (
    "customer", "subscription", "subscription_vas", "business_change", "usage_record", "bill",
    "bill_line", "payment",
)
TEMP_TABLES = ("seed_month", "seed_payday", "seed_line", "seed_charge")


class Sink:
    """One raw connection and transaction for the whole seed."""

    def __init__(self) -> None:
        self.raw = db.engine.raw_connection()
        self.conn = self.raw.driver_connection
        self.pg = db.engine.dialect.name == "postgresql"
        self.cur = self.conn.cursor()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        if params is None:
            self.cur.execute(sql)
        else:
            self.cur.execute(sql.replace("?", "%s") if self.pg else sql, params)

    def scalar(self, sql: str) -> Any:
        self.cur.execute(sql)
        row = self.cur.fetchone()
        return row[0] if row else None

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        self.execute(sql, params)
        return list(self.cur.fetchall())

    def load(self, table: str, cols: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        names = ", ".join(f'"{c}"' for c in cols)
        if self.pg:
            with self.cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in cols)
            self.cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
                                 [tuple(_sqlite_value(v) for v in row) for row in rows])

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        try:
            self.conn.rollback()
        finally:
            self.raw.close()


def _sqlite_value(value: Any) -> Any:
    # The formats SQLAlchemy itself writes for DateTime and Date on SQLite.
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# -- staging ------------------------------------------------------------------------------------
def create_temp_tables(sink: Sink, line_cols: Sequence[str], text_cols: Sequence[str]) -> None:
    for name in TEMP_TABLES:
        sink.execute(f"DROP TABLE IF EXISTS {name}")
    sink.execute("CREATE TEMP TABLE seed_month (idx BIGINT, month DATE, due_date DATE, issued_at TIMESTAMP)")
    sink.execute("CREATE TEMP TABLE seed_payday (idx BIGINT, off BIGINT, paid_at TIMESTAMP)")
    cols = ", ".join(f"{c} {'VARCHAR(128)' if c in text_cols else 'BIGINT'}" for c in line_cols)
    sink.execute(f"CREATE TEMP TABLE seed_line ({cols})")
    sink.execute(
        "CREATE TEMP TABLE seed_charge (bill_k BIGINT, line_k BIGINT, idx BIGINT, month DATE, sub_id BIGINT,"
        " customer_id BIGINT, has_usage BIGINT, voice BIGINT, sms BIGINT, data BIGINT, plan_id BIGINT,"
        " extra_plan_id BIGINT, voice_over BIGINT, data_over_gb BIGINT, base_c BIGINT, extra_c BIGINT,"
        " vas_c BIGINT, voice_c BIGINT, data_c BIGINT, total_c BIGINT, paid_c BIGINT, pay_off BIGINT,"
        " method_h BIGINT)"
    )


def drop_temp_tables(sink: Sink) -> None:
    for name in TEMP_TABLES:
        sink.execute(f"DROP TABLE IF EXISTS {name}")


def calendar(months: list[dt.date], now: dt.datetime) -> tuple[list[tuple], list[tuple], list[int]]:
    """Billed months (issued on the 2nd of the next month, due on the 15th), pay days, and per
    month the last pay-day offset that is already in the past (-1: none)."""
    month_rows, payday_rows, past_off = [], [], []
    for idx, first in enumerate(months):
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        issued = dt.datetime.combine(nxt + dt.timedelta(days=1), dt.time(3, 0))
        month_rows.append((idx, first, nxt.replace(day=15), issued))
        last = -1
        for off in range(PAY_DAYS):
            paid = dt.datetime.combine(issued.date() + dt.timedelta(days=off),
                                       dt.time(8 + (off * 7) % 14, (off * 13) % 60))
            payday_rows.append((idx, off, paid))
            if paid <= now:
                last = off
        past_off.append(last)
    return month_rows, payday_rows, past_off


PAY_DAYS = 60


# -- the monthly stage --------------------------------------------------------------------------
class Hasher:
    """SQL text for a deterministic pseudo-random integer in [0, P) from a column and a constant."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __call__(self, column: str, const: int, salt: int) -> str:
        r = random.Random(self.seed * 7919 + salt)
        ka, kb, kc, kd = (r.randrange(1, 2**30) for _ in range(4))
        x = f"(({column} * {ka} + {(const * kb + kc) % P}) % {P})"
        return f"(({x} * {x} + {kd}) % {P})"


def _charges_sql(h: Hasher, i: int, n: int, m_count: int, month: dt.date, past_off: int, pg: bool) -> str:
    month_lit = f"DATE '{month.isoformat()}'" if pg else f"'{month.isoformat()}'"
    # An optimisation fence per level: without it both databases inline each derived column into
    # every reference, and the hashes are computed many times over per row.
    fence = "OFFSET 0" if pg else "LIMIT -1 OFFSET 0"
    fade = f"(1000 - decline * {i * 600 // m_count})"
    return f"""
INSERT INTO seed_charge (bill_k, line_k, idx, month, sub_id, customer_id, has_usage, voice, sms, data, plan_id,
    extra_plan_id, voice_over, data_over_gb, base_c, extra_c, vas_c, voice_c, data_c, total_c, paid_c,
    pay_off, method_h)
SELECT bill_k, k, {i}, {month_lit}, sub_id, customer_id, has_usage, voice, sms, data, plan_id, extra_plan_id,
    voice_over, data_over_gb, base_c, extra_c, vas_c, voice_c, data_c, total_c,
    CASE WHEN pay_off <= {past_off} AND (payer IN (0, 1) OR (payer = 2 AND {i} < stop_idx)
                                         OR (payer = 3 AND {i} <> partial_idx)) THEN total_c
         WHEN pay_off <= {past_off} AND payer = 3 THEN total_c / 2
         ELSE 0 END,
    pay_off, method_h
FROM (
  SELECT *, base_c + extra_c + vas_c + voice_c + data_c AS total_c
  FROM (
    SELECT *, voice_over * vrate AS voice_c, data_over_gb * drate AS data_c
    FROM (
      SELECT *, CASE WHEN voice > vincl THEN voice - vincl ELSE 0 END AS voice_over,
          CASE WHEN has_usage = 1 AND data > dincl THEN (data - dincl + 1023) / 1024 ELSE 0 END AS data_over_gb
      FROM (
        SELECT {i * n} + k AS bill_k, k, sub_id, customer_id, has_usage, vas_c, payer, stop_idx, partial_idx,
            extra_plan_id,
            CASE WHEN {i} < change_idx THEN old_plan_id ELSE plan_id END AS plan_id,
            CASE WHEN {i} < change_idx THEN old_fee_c ELSE fee_c END AS base_c,
            CASE WHEN {i} < change_idx THEN old_voice_incl ELSE voice_incl END AS vincl,
            CASE WHEN {i} < change_idx THEN old_data_incl ELSE data_incl END AS dincl,
            CASE WHEN {i} < change_idx THEN old_vrate_c ELSE vrate_c END AS vrate,
            CASE WHEN {i} < change_idx THEN old_drate_c ELSE drate_c END AS drate,
            CASE WHEN {i} >= extra_start_idx THEN extra_fee_c ELSE 0 END AS extra_c,
            voice_base * (600 + h % 800) / 1000 * {fade} / 1000 AS voice,
            sms_base * (500 + (h / 800) % 1000) / 1000 AS sms,
            data_base * (600 + (h / 800000) % 800) / 1000 * {fade} / 1000 AS data,
            CASE WHEN payer = 1 THEN 20 + h2 % 40 ELSE 1 + h2 % 13 END AS pay_off,
            h2 / 64 AS method_h
        FROM (
          SELECT l.*, {h("l.k", i, 1)} AS h, {h("l.k", i, 2)} AS h2
          FROM seed_line l WHERE l.start_idx <= {i} AND l.end_idx >= {i}
        {fence}) a
      {fence}) b
    {fence}) c
  {fence}) d
{fence}) e"""  # noqa: S608 - every interpolated value is a number computed here


def monthly_stage(sink: Sink, seed: int, months: list[dt.date], past_off: list[int], n: int,
                  bases: dict[str, int], step: Callable[[str], None]) -> None:
    """Usage, bill lines, bills and payments for `n` customers (line k = customer k) over `months`.

    Row ids are computed, not drawn from sequences: bill = base + idx * n + k + 1 (the same for
    usage and payment), so rows go in ascending id order and no sequence is touched per row.
    """
    h = Hasher(seed)
    m_count = len(months)
    for i, month in enumerate(months):
        sink.execute(_charges_sql(h, i, n, m_count, month, past_off[i], sink.pg))
    if sink.pg:
        sink.execute("ANALYZE seed_charge")
    step("charges")
    sink.execute(f"""
INSERT INTO usage_record (id, customer_id, subscription_id, month, voice_minutes, sms_count, data_mb)
SELECT {bases["usage_record"]} + bill_k + 1, customer_id, sub_id, month, voice, sms, data
FROM seed_charge WHERE has_usage = 1""")  # noqa: S608
    step("usage_record")
    span = m_count * n
    line_base = bases["bill_line"]
    for t, (kind, desc, amount, join, where) in enumerate((
        ("base", "p.name", "c.base_c", "JOIN plan p ON p.id = c.plan_id", "1 = 1"),
        ("base", "p.name", "c.extra_c", "JOIN plan p ON p.id = c.extra_plan_id", "c.extra_c > 0"),
        ("vas", "'增值业务：' || l.vas_desc", "c.vas_c", "JOIN seed_line l ON l.k = c.line_k", "c.vas_c > 0"),
        ("voice_overage", "'语音超出' || c.voice_over || '分钟'", "c.voice_c", "", "c.voice_c > 0"),
        ("data_overage", "'流量超出' || c.data_over_gb || 'GB'", "c.data_c", "", "c.data_c > 0"),
    )):
        sink.execute(
            f"INSERT INTO bill_line (id, bill_id, item_type, description, amount) "  # noqa: S608
            f"SELECT {line_base + t * span} + c.bill_k + 1, {bases['bill']} + c.bill_k + 1, '{kind}', {desc}, "
            f"{amount} / 100.0 FROM seed_charge c {join} WHERE {where}"
        )
    step("bill_line")
    sink.execute(f"""
INSERT INTO bill (id, customer_id, month, base_fee, vas_fee, voice_overage, data_overage, other_fee, total,
    paid_amount, due_date, status, issued_at)
SELECT {bases["bill"]} + c.bill_k + 1, c.customer_id, c.month, (c.base_c + c.extra_c) / 100.0, c.vas_c / 100.0,
    c.voice_c / 100.0, c.data_c / 100.0, 0, c.total_c / 100.0, c.paid_c / 100.0, m.due_date,
    CASE WHEN c.paid_c >= c.total_c THEN 'paid' WHEN c.paid_c > 0 THEN 'partial' ELSE 'unpaid' END,
    m.issued_at
FROM seed_charge c JOIN seed_month m ON m.idx = c.idx""")  # noqa: S608
    step("bill")
    sink.execute(f"""
INSERT INTO payment (id, customer_id, bill_id, paid_at, amount, method, operator_id, reference)
SELECT {bases["payment"]} + c.bill_k + 1, c.customer_id, {bases["bill"]} + c.bill_k + 1, p.paid_at,
    c.paid_c / 100.0,
    CASE WHEN c.method_h % 20 < 8 THEN 'wechat' WHEN c.method_h % 20 < 14 THEN 'alipay'
         WHEN c.method_h % 20 < 17 THEN 'bank' WHEN c.method_h % 20 < 19 THEN 'card' ELSE 'cash' END,
    NULL, 'PAY' || ({bases["bill"]} + c.bill_k + 1)
FROM seed_charge c JOIN seed_payday p ON p.idx = c.idx AND p.off = c.pay_off
WHERE c.paid_c > 0""")  # noqa: S608
    step("payment")


def id_span(table: str, n: int, m_count: int) -> int:
    """How many ids the stage may use in `table` (bill lines: five kinds per bill)."""
    return n * m_count * (5 if table == "bill_line" else 1)


# -- PostgreSQL bulk-load helpers ---------------------------------------------------------------
def pg_session_settings(sink: Sink) -> None:
    """Transaction-local settings for a bulk load: bigger sort memory, no per-row FK triggers."""
    sink.execute("SET LOCAL work_mem = '256MB'")
    sink.execute("SET LOCAL maintenance_work_mem = '512MB'")
    sink.execute("SET LOCAL synchronous_commit = off")
    sink.execute("SAVEPOINT seed_temp")
    try:  # only allowed before the session's first temporary table
        sink.execute("SET LOCAL temp_buffers = '512MB'")
        sink.execute("RELEASE SAVEPOINT seed_temp")
    except Exception:  # noqa: BLE001
        sink.execute("ROLLBACK TO SAVEPOINT seed_temp")
    # Foreign keys are satisfied by construction; skipping their per-row triggers needs superuser.
    sink.execute("SAVEPOINT seed_role")
    try:
        sink.execute("SET LOCAL session_replication_role = replica")
        sink.execute("RELEASE SAVEPOINT seed_role")
    except Exception:  # noqa: BLE001 - not a superuser: keep the triggers
        sink.execute("ROLLBACK TO SAVEPOINT seed_role")


def pg_drop_secondary_indexes(sink: Sink, tables: Sequence[str]) -> list[str]:
    """Drop non-primary-key indexes and unique constraints; return the statements that rebuild them."""
    rebuild: list[str] = []
    constraints = sink.rows(
        "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE k.contype = 'u' AND n.nspname = current_schema() AND c.relname = ANY(%s) ORDER BY 1, 2",
        [list(tables)],
    )
    indexes = sink.rows(
        "SELECT c.relname, ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relname = ANY(%s) AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY 1, 2",
        [list(tables)],
    )
    for table, name, definition in constraints:
        sink.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        rebuild.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for _table, name, definition in indexes:
        sink.execute(f'DROP INDEX "{name}"')
        rebuild.append(definition)
    return rebuild


def pg_reset_sequences(sink: Sink, tables: Sequence[str]) -> None:
    for table in tables:
        sink.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
        )
