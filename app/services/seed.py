"""Deterministic demo data at any scale (`crm seed`).

Same `random_seed` → same customers (names, resident IDs, mobiles), lines, usage, bills and
payments. The ciphertext of the resident ID differs between runs (AES-GCM uses a fresh nonce), the
blind index and masked copy do not.

How it scales: customers, lines, VAS and business changes are generated in batches from pools
(`seed_people`) and streamed in with COPY (PostgreSQL) or executemany (SQLite); the monthly
facts are set-based `INSERT … SELECT` statements (`seed_sql`). On PostgreSQL a large load drops
secondary indexes first and rebuilds them at the end, all inside one transaction, then ANALYZEs.
Audit entries are not written for seeded rows.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.extensions import db
from app.models.base import utcnow
from app.models.customer import Customer
from app.services import seed_catalog, seed_sales, seed_sql, seed_tickets, sla_seed
from app.services.crypto import cipher
from app.services.customer360 import months_back
from app.services.seed_people import (
    CHANGE_COLS,
    CUSTOMER_COLS,
    LINE_COLS,
    LINE_TEXT_COLS,
    SUB_VAS_COLS,
    SUBSCRIPTION_COLS,
    Generator,
    SeedContext,
)

BATCH = 50_000
# Drop and rebuild secondary indexes (PostgreSQL) when loading at least this many customers
# and more than the table already holds.
REBUILD_INDEXES_FROM = 100_000
# Report table sizes after the load only when counting them is cheap.
COUNT_ROWS_UP_TO = 200_000


@dataclass
class SeedResult:
    customers: int = 0
    skipped: bool = False
    users: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def existing_customers() -> int:
    return int(db.session.execute(select(func.count(Customer.id))).scalar() or 0)


def run(customers: int, months: int = 12, random_seed: int = 42, demo_users: bool = False,
        password: str | None = None, first_run: bool = False, today: dt.date | None = None,
        progress: Callable[[str], None] | None = None, keep_admin_password: bool = False) -> SeedResult:
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    result = SeedResult()
    # Demo users first, even on a later `make run`: the password it prints must be the one that works.
    if demo_users:
        if not password:
            raise ValueError("--demo-users needs --password")
        result.users = seed_catalog.ensure_demo_users(password, keep_admin_password=keep_admin_password)
    if first_run and existing_customers() > 0:
        result.skipped = True
        return result
    if customers <= 0:
        result.seconds = time.monotonic() - started
        return result
    if months < 1:
        raise ValueError("--months must be at least 1")
    today = today or dt.date.today()
    plans, vas = seed_catalog.ensure_catalogue()
    owners = seed_catalog.user_ids_with_role("Sales")
    db.session.commit()

    sink = seed_sql.Sink()
    try:
        result.counts = _load(sink, customers, months, random_seed, today, plans, vas, owners, say, started)
        sink.commit()
    finally:
        sink.close()
    if sink.pg:
        _analyze(say, started)
    seed_tickets.fill_summary(say)  # issue 4.12: closed days of the service statistics
    result.customers = customers
    result.seconds = time.monotonic() - started
    return result


def _load(sink: seed_sql.Sink, count: int, months: int, seed: int, today: dt.date, plans: list,
          vas: list, owners: list[int], say: Callable[[str], None], started: float) -> dict[str, int]:
    def step(name: str) -> None:
        say(f"  {name} done ({time.monotonic() - started:.1f} s)")

    existing = int(sink.scalar("SELECT COUNT(*) FROM customer") or 0)
    ctx = SeedContext(
        seed=seed, months=months_back(today, months), today=today, plans=plans, vas=vas, owners=owners,
        cipher=cipher(),
        cust_base=int(sink.scalar("SELECT COALESCE(MAX(id), 0) FROM customer")),
        sub_base=int(sink.scalar("SELECT COALESCE(MAX(id), 0) FROM subscription")),
    )
    if existing:
        # Appending: new mobiles and resident IDs must not collide with stored ones.
        ctx.taken_mobiles = {r[0] for r in sink.rows("SELECT mobile FROM customer")}
        ctx.taken_bidx = {r[0] for r in sink.rows("SELECT id_number_bidx FROM customer")}
    bases = {t: int(sink.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {t}"))  # noqa: S608 - fixed names
             for t in ("bill", "usage_record", "bill_line", "payment")}

    rebuild: list[str] = []
    if sink.pg:
        seed_sql.pg_session_settings(sink)
        if count >= REBUILD_INDEXES_FROM and count > existing:
            rebuild = seed_sql.pg_drop_secondary_indexes(sink, seed_sql.BULK_TABLES)
            say(f"  dropped {len(rebuild)} secondary indexes for the load")
    seed_sql.create_temp_tables(sink, LINE_COLS, LINE_TEXT_COLS)
    month_rows, payday_rows, past_off = seed_sql.calendar(
        ctx.months, dt.datetime.combine(today, dt.datetime.now().time()))
    sink.load("seed_month", ("idx", "month", "due_date", "issued_at"), month_rows)
    sink.load("seed_payday", ("idx", "off", "paid_at"), payday_rows)

    gen = Generator(ctx)
    done = 0
    for batch in gen.batches(count, BATCH):
        sink.load("customer", CUSTOMER_COLS, batch.customers)
        sink.load("subscription", SUBSCRIPTION_COLS, batch.subscriptions)
        sink.load("subscription_vas", SUB_VAS_COLS, batch.sub_vas)
        sink.load("business_change", CHANGE_COLS, batch.changes)
        sink.load("seed_line", LINE_COLS, batch.lines)
        done += len(batch.customers)
        say(f"  customers: {done:,}/{count:,} ({time.monotonic() - started:.1f} s)")
    if sink.pg:
        sink.execute("ANALYZE seed_line")
        # The name grams (migration 0026) are kept by triggers, which the load switched off
        # (`session_replication_role`); where they stayed on, the rows are there already.
        sink.execute("INSERT INTO customer_name_gram (gram, customer_id) "
                     "SELECT g, c.id FROM customer AS c, unnest(crm_grams(lower(c.name))) AS g "
                     "WHERE c.id > %s ON CONFLICT DO NOTHING", [ctx.cust_base])
        step("customer name grams")
    seed_sql.monthly_stage(sink, seed, ctx.months, past_off, count, bases, step)
    seed_tickets.load(sink, seed, ctx.cust_base, count, len(ctx.months), today, step)  # issue 4: tickets
    # SLA clocks for the seeded tickets, as the ticket hooks would have kept them (past breaches count
    # as already escalated, so the minute job does not escalate history).
    for statement in sla_seed.backfill_statements(sink.pg, utcnow()):
        sink.execute(statement)
    step("ticket SLA clocks")
    seed_sales.load(sink, seed, ctx.cust_base, count, len(ctx.months), today, step)  # issue 3: sales
    if rebuild:
        for statement in rebuild:
            sink.execute(statement)
        step(f"rebuilt {len(rebuild)} indexes")
    if sink.pg:
        seed_sql.pg_reset_sequences(sink, ("customer", "subscription", "bill", "usage_record", "bill_line",
                                           "payment"))
    seed_sql.drop_temp_tables(sink)
    counts = {}
    if count <= COUNT_ROWS_UP_TO:
        for table in seed_sql.BULK_TABLES:
            counts[table] = int(sink.scalar(f"SELECT COUNT(*) FROM {table}") or 0)  # noqa: S608 - fixed names
    return counts


def _analyze(say: Callable[[str], None], started: float) -> None:
    raw = db.engine.raw_connection()
    try:
        conn = raw.driver_connection
        conn.autocommit = True
        with conn.cursor() as cur:
            # VACUUM sets the visibility map on the customer table, so the id-only page queries of
            # the lists are index-only scans; autovacuum does the same for the others later.
            cur.execute("VACUUM ANALYZE customer")
            cur.execute("VACUUM ANALYZE customer_name_gram")  # read index-only, as the lists are
            for table in seed_sql.BULK_TABLES[1:]:
                cur.execute(f"ANALYZE {table}")
            # The seed's UPDATE of ticket.subscription_id leaves a dead copy of every ticket; the
            # service statistics read these tables index-only (migration 0022), which needs VACUUM.
            for table in ("ticket", "ticket_sla", "survey"):
                cur.execute(f"VACUUM ANALYZE {table}")
            # The sales seed updates what it inserted (stages, conversions): reclaim those copies too.
            for table in ("lead", "opportunity", "opportunity_stage_change", "contact_log", "sales_order",
                          "sales_order_line"):
                cur.execute(f"VACUUM ANALYZE {table}")
            # Then statistics for every other table the seed filled (tickets, care, sales, messages…):
            # with none, the planner takes a salesperson's 65,000 leads for 72 and picks sorts over
            # index scans, and autovacuum may be off or hours away. Tables analysed above are cheap again.
            cur.execute("ANALYZE")
        conn.autocommit = False
    finally:
        raw.close()
    say(f"  VACUUM/ANALYZE done ({time.monotonic() - started:.1f} s)")
