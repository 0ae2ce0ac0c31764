"""Migration 0020 (customer.language, outbox send-time columns) at scale: times its upgrade() and
downgrade() DDL alone, `--repeat` rounds each, and shows that `customer` is not rewritten (same
relfilenode before and after). Leaves the migration applied.

    .venv/bin/python bench/bench_migration_0020.py --repeat 10 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench

Do not run it where the schema is managed by alembic at 0020 or later without expecting the columns
to be dropped and re-added (their values reset to the defaults).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import create_engine, text

MIGRATION = Path(__file__).resolve().parent.parent / "migrations" / "versions" / "0020_customer_language.py"


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("m0020", MIGRATION)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    engine = create_engine(args.database_url)
    relfile = text("SELECT relfilenode FROM pg_class WHERE relname = 'customer'")
    with engine.connect() as conn:
        before = conn.execute(relfile).scalar()
        applied = conn.execute(text("SELECT count(*) FROM information_schema.columns "
                                    "WHERE table_name = 'customer' AND column_name = 'language'")).scalar()
    ups: list[float] = []
    downs: list[float] = []
    steps = [(mod.downgrade, downs), (mod.upgrade, ups)] if applied else [(mod.upgrade, ups), (mod.downgrade, downs)]
    for _ in range(args.repeat):
        for fn, out in steps:
            with engine.begin() as conn:
                conn.execute(text("SET lock_timeout = '30s'"))  # queue behind other sessions, not forever
                with Operations.context(MigrationContext.configure(conn)):
                    started = time.perf_counter()
                    fn()
                    out.append((time.perf_counter() - started) * 1000)
    if not applied:
        with engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
            mod.upgrade()
    with engine.connect() as conn:
        after = conn.execute(relfile).scalar()
        counts = conn.execute(text("SELECT language, count(*) FROM customer GROUP BY 1")).all()
    for name, xs in (("upgrade", ups), ("downgrade", downs)):
        print(f"{name:9s} n={len(xs)} p50 {_percentile(xs, 0.5):.1f} ms  p95 {_percentile(xs, 0.95):.1f} ms")
    print(f"customer relfilenode {before} -> {after} ({'no rewrite' if before == after else 'REWRITTEN'})")
    print("customers by language:", {lang: n for lang, n in counts})
    return 0


if __name__ == "__main__":
    sys.exit(main())
