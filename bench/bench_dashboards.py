"""Manager dashboard benchmark (issue 6.5): page times through the Flask test client, and the KPI refresh.

Against an existing database (DATABASE_URL), it first times one refresh of each pre-aggregated
snapshot (`kpi_refresh.refresh`, the work the `kpi_refresh` job does every 10 minutes), then times
each page N times: p50/p95 wall time of the whole request (server side, no network) and the SQL
time inside it. Target: the manager home page ≤ 300 ms at 1,000,000 customers on PostgreSQL.

Usage (the schema must be current: `crm init` first; see bench/RESULTS.md):

    CRM_INSTANCE_DIR=/tmp/bench/instance \\
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/bench_dashboards.py --username admin --password '…' --repeat 20

`--no-refresh` skips the refresh timing (pages then read the newest snapshot already stored).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench import SqlTimer, _percentile, use_database  # noqa: E402 - bench/bench.py, after the path is set

PAGES = (
    ("manager dashboard", "/dashboard/"),
    ("customer analysis", "/analytics/customers/"),
    ("churn factors", "/analytics/churn-factors/"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default=os.environ.get("CRM_BENCH_PASSWORD", ""))
    parser.add_argument("--no-refresh", action="store_true")
    args = parser.parse_args()
    url = use_database(parser, args.database_url)

    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models.customer import Customer
    from app.models.kpi import KPI_KINDS
    from app.services import kpi_refresh

    app = create_app({"WTF_CSRF_ENABLED": False, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        customers = db.session.execute(select(func.count()).select_from(Customer)).scalar() or 0
        dialect = db.engine.dialect.name
        print(f"{customers:,} customers on {dialect}", flush=True)
        refresh_ms: dict[str, float] = {}
        if not args.no_refresh:
            for kind in KPI_KINDS:
                started = time.perf_counter()
                kpi_refresh.refresh(kinds=(kind,))
                refresh_ms[kind] = (time.perf_counter() - started) * 1000
                print(f"refresh {kind}: {refresh_ms[kind]:.0f} ms", flush=True)
        timer = SqlTimer(db.engine)

    client = app.test_client()
    resp = client.post("/login/", data={"username": args.username, "password": args.password})
    if resp.status_code != 302 or "/login" in resp.headers.get("Location", ""):
        print(f"could not sign in as {args.username}", file=sys.stderr)
        return 1
    rows = []
    for label, path in PAGES:
        first = client.get(path)  # warm-up: templates compiled, permissions cached
        if first.status_code != 200:
            print(f"{path}: HTTP {first.status_code}", file=sys.stderr)
            return 1
        walls, sqls = [], []
        for _ in range(args.repeat):
            timer.reset()
            started = time.perf_counter()
            resp = client.get(path)
            walls.append((time.perf_counter() - started) * 1000)
            sqls.append(timer.total * 1000)
            assert resp.status_code == 200
        rows.append((label, path, _percentile(walls, 0.5), _percentile(walls, 0.95), statistics.median(sqls)))

    print()
    print(f"Dashboards, {customers:,} customers, {dialect}, {args.repeat} requests each (ms):")
    print()
    print("| page | p50 | p95 | SQL p50 | target |")
    print("|---|---:|---:|---:|---|")
    for label, path, p50, p95, sql in rows:
        ok = ("✓ ≤300" if p95 <= 300 else "✗ ≤300") if label.startswith("manager") else ""
        print(f"| {label} (`{path}`) | {p50:.1f} | {p95:.1f} | {sql:.1f} | {ok} |")
    if refresh_ms:
        print()
        print("| snapshot refresh (job `kpi_refresh`, every 10 min) | ms |")
        print("|---|---:|")
        for kind, ms in refresh_ms.items():
            print(f"| {kind} | {ms:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
