"""Customer list / search benchmark, in-process with the Flask test client.

Seeds (or reuses) a database at the chosen scale, signs in, and times each request N times:
p50/p95 wall time of the whole request (server side, no network) and the SQL time inside it.
It also times a stock Flask-AppBuilder baseline (plain `SQLAInterface`: COUNT(*) and OFFSET over
full rows, FAB's own filters) against `CrmSQLAInterface` for the same list requests — page 1, deep
pages (by id and by name) and the searches (exact mobile, exact resident ID, mobile prefix, name
contains) — and prints Markdown tables with the stock / ours ratio of each.

Usage (see bench/RESULTS.md for measured numbers):

    createdb -h 127.0.0.1 -U postgres crm_bench
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/crm_bench .venv/bin/flask --app run crm init
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/bench.py --customers 1000000 --reuse --repeat 20

`--reuse` keeps an existing database (seeds only when it has no customers); without it the
customers are added with `crm seed`'s service. `--password` is the demo users' password (default
`CRM_BENCH_PASSWORD`); `--reset-passwords` sets it on the admin and manager users first — not by
default, since a shared database's users keep the password others sign in with.

Deep pages are timed warm (the keyset anchors of the page before are in the cache, as when paging)
and cold (anchors dropped before each request: the first visit of that depth).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * pct
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class SqlTimer:
    """Sums the time spent in cursor executions (SQLAlchemy engine events)."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.total = 0.0
        self.statements = 0

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
            conn.info.setdefault("_bench_t", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
            self.total += time.perf_counter() - conn.info["_bench_t"].pop()
            self.statements += 1

    def reset(self) -> None:
        self.total = 0.0
        self.statements = 0


def use_database(parser: argparse.ArgumentParser, url: str | None) -> str:
    """The SQLAlchemy URL for `url` (psycopg 3 for a plain postgresql:// URL), exported as DATABASE_URL
    before the app is imported, with the scheduler off: a benchmark times requests, not jobs."""
    if not url:
        parser.error("set --database-url or DATABASE_URL")
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("CRM_SCHEDULER", "off")
    return url


def main() -> int:  # noqa: PLR0915 - a script, top to bottom
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--random-seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="reuse the database if it has customers")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--deep-page", type=int, default=20_000, help="0-based FAB page number")
    parser.add_argument("--password", default=os.environ.get("CRM_BENCH_PASSWORD", "demo-pass-2026"))
    parser.add_argument("--reset-passwords", action="store_true",
                        help="set --password on the admin and manager users of a reused database")
    args = parser.parse_args()
    url = use_database(parser, args.database_url)

    from flask import g
    from flask_appbuilder.models.sqla.interface import SQLAInterface
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import appbuilder, db
    from app.models.customer import Customer
    from app.services import seed, setup
    from app.services.customers import reveal_value
    from app.views import keyset
    from app.views.datamodel import CrmSQLAInterface

    app = create_app({"WTF_CSRF_ENABLED": False, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        setup.init()
        have = seed.existing_customers()
        if not (args.reuse and have):
            print(f"seeding {args.customers:,} customers …", flush=True)
            result = seed.run(args.customers, months=args.months, random_seed=args.random_seed,
                              demo_users=True, password=args.password, progress=print)
            print(f"seeded in {result.seconds:.1f} s", flush=True)
        elif args.reset_passwords:
            for username in ("admin", "manager"):
                setup.set_password(username, args.password)
        total = seed.existing_customers()
        dialect = db.engine.dialect.name
        # Sample values from the middle of the table.
        sample = db.session.execute(
            select(Customer).order_by(Customer.id).offset(total // 2).limit(1)).scalar_one()
        sample_id, sample_mobile, sample_name = sample.id, sample.mobile, sample.name
        sample_id_number = reveal_value(sample)
        given = sample_name[1:] if len(sample_name) >= 3 else sample_name
        name_hits = db.session.execute(
            select(func.count()).select_from(Customer).where(Customer.name.like(f"%{given}%"))).scalar()
        timer = SqlTimer(db.engine)

    client = app.test_client()
    resp = client.post("/login/", data={"username": "admin", "password": args.password})
    assert resp.status_code == 302, "admin login failed"

    def api_filter(col: str, opr: str, value: str, extra: str = "") -> str:
        return f"/api/v1/customers/?q=(filters:!((col:{col},opr:{opr},value:'{value}')){extra})"

    deep = min(args.deep_page, max(0, total // args.page_size - 1))
    last = max(0, (total - 1) // args.page_size)
    ps = args.page_size
    deep_path = f"/customers/list/?page_CustomerModelView={deep}&psize_CustomerModelView={ps}"
    by_name = "&_oc_CustomerModelView=name&_od_CustomerModelView=asc"
    cold = keyset.clear  # before each request: no anchors, the first visit of that depth
    cases = [
        ("customer list, page 1 (page)", "/customers/list/", 200),
        (f"customer list, page {deep:,} (page)", deep_path, 200),
        (f"customer list, page {deep:,} (page, cold)", deep_path, 200, cold),
        (f"customer list, page {deep:,} by name (page)", deep_path + by_name, 200),
        (f"customer list, page {deep:,} by name (page, cold)", deep_path + by_name, 200, cold),
        (f"customer list, last page {last:,} (page, cold)", f"/customers/list/?page_CustomerModelView={last}"
         f"&psize_CustomerModelView={ps}", 200, cold),
        ("customer list, page 1 (API)", f"/api/v1/customers/?q=(page:0,page_size:{ps})", 200),
        (f"customer list, page {deep:,} (API)", f"/api/v1/customers/?q=(page:{deep},page_size:{ps})", 200),
        ("exact mobile (API eq)", api_filter("mobile", "eq", sample_mobile), 200),
        ("exact mobile (quick search)", f"/customer360/search?q={sample_mobile}", 302),
        ("exact resident ID (API eq)", api_filter("id_number", "eq", sample_id_number), 200),
        ("exact resident ID (quick search)", f"/customer360/search?q={sample_id_number}", 302),
        (f"mobile prefix {sample_mobile[:4]} (page)", f"/customers/list/?_flt_0_mobile={sample_mobile[:4]}", 200),
        (f"name contains '{given}' (page, {name_hits:,} hits)", f"/customers/list/?_flt_2_name={given}", 200),
        (f"name contains '{given}' (API)", api_filter("name", "ct", given), 200),
        *([(f"name contains '{sample_name}' (page)", f"/customers/list/?_flt_2_name={sample_name}", 200)]
          if sample_name != given else []),
        ("customer 360", f"/customer360/{sample_id}", 200),
        ("bill list, page 1 (page)", "/bills/list/", 200),
        (f"bill list, page {deep:,} (page)", f"/bills/list/?page_BillModelView={deep}&psize_BillModelView={ps}", 200),
        # Sales (issue 3): funnel and performance page, the board, the lead list by priority.
        ("sales dashboard (funnel, revenue, per salesperson, lost)", "/sales/dashboard/", 200),
        ("sales pipeline board", "/sales/board/", 200),
        ("lead list by priority, page 1 (page)", "/leads/list/", 200),
        # Service desk (issue 4): the ticket list, the queue, the SLA board and statistics (30 days).
        ("ticket list, page 1 (page)", "/ticket-list/list/", 200),
        ("ticket queue (page)", "/tickets/queue", 200),
        ("SLA board (page)", "/sla/", 200),
        ("service statistics, last 30 days (page)", "/service-stats/", 200),
        # Care (issue 5): the agenda.
        ("my follow-ups (page)", "/care/", 200),
    ]
    rows = []
    for label, path, expected, *before in cases:
        walls, sqls = [], []
        for i in range(args.repeat + 1):
            for prepare in before:
                prepare()
            timer.reset()
            t0 = time.perf_counter()
            resp = client.get(path)
            wall = time.perf_counter() - t0
            if resp.status_code != expected:
                raise SystemExit(f"{label}: {path} → {resp.status_code}\n{resp.get_data(as_text=True)[:500]}")
            if i:  # the first request warms caches
                walls.append(wall * 1000)
                sqls.append(timer.total * 1000)
        rows.append((label, _percentile(walls, 0.5), _percentile(walls, 0.95), statistics.median(sqls)))
        print(f"{label:55s} p50 {rows[-1][1]:8.1f} ms  p95 {rows[-1][2]:8.1f} ms  SQL p50 {rows[-1][3]:8.1f} ms",
              flush=True)

    # Stock FAB baseline vs ours: the same view filters (the admin's row rule) and search filters,
    # through each interface's `query` — what the list page and the API call.
    from flask_appbuilder.models.sqla.filters import FilterContains, FilterEqual, FilterStartsWith

    from app.views.customers import IdNumberEqualFilter

    comparisons = [
        ("list, page 1", 0, "id", []),
        (f"list, page {deep:,}", deep, "id", []),
        (f"list, page {deep:,} by name", deep, "name", []),
        (f"list, last page {last:,}", last, "id", []),
        ("exact mobile", 0, "id", [("mobile", FilterEqual, sample_mobile)]),
        ("exact resident ID", 0, "id", [("id_number", IdNumberEqualFilter, sample_id_number)]),
        (f"mobile prefix {sample_mobile[:4]}", 0, "id", [("mobile", FilterStartsWith, sample_mobile[:4])]),
        (f"name contains '{given}'", 0, "id", [("name", FilterContains, given)]),
    ]
    if sample_name != given:
        comparisons.append((f"name contains '{sample_name}'", 0, "id", [("name", FilterContains, sample_name)]))
    baseline = []
    with app.test_request_context("/customers/list/"):
        g.user = appbuilder.sm.find_user(username="admin")
        view = next(v for v in appbuilder.baseviews if type(v).__name__ == "CustomerModelView")
        interfaces = (("stock", SQLAInterface(Customer)), ("ours", CrmSQLAInterface(Customer)))
        for label, page, order, extra in comparisons:
            timed = {}
            for name, iface in interfaces:
                times = []
                for i in range(args.repeat + 1):
                    filters = view.datamodel.get_filters(view.search_columns)
                    filters.add_filter_list(view.base_filters)
                    for column, flt, value in extra:
                        filters.add_filter(column, flt, value)
                    t0 = time.perf_counter()
                    count, items = iface.query(filters, order, "desc" if order == "id" else "asc",
                                               page=page, page_size=ps)
                    if i:  # the first one warms caches (ours: the keyset anchors of this page)
                        times.append((time.perf_counter() - t0) * 1000)
                    db.session.rollback()
                timed[name] = (_percentile(times, 0.5), _percentile(times, 0.95), count, [c.id for c in items])
            same = timed["stock"][3] == timed["ours"][3]
            baseline.append((label, timed["stock"], timed["ours"], same))
            print(f"{label:40s} stock p50 {timed['stock'][0]:8.1f} ms  ours p50 {timed['ours'][0]:8.1f} ms  "
                  f"{timed['stock'][0] / max(timed['ours'][0], 0.001):6.1f}x  same rows: {same}", flush=True)

    print()
    print(f"Database: {dialect}, {total:,} customers; {args.repeat} timed requests per row (after one warm-up).")
    print()
    print("| request | p50 ms | p95 ms | SQL p50 ms |")
    print("|---|---:|---:|---:|")
    for label, p50, p95, sql in rows:
        print(f"| {label} | {p50:.1f} | {p95:.1f} | {sql:.1f} |")
    print()
    print("| list request (interface) | stock p50 ms | stock p95 ms | ours p50 ms | ours p95 ms | stock / ours "
          "| count stock / ours | same rows |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for label, stock, ours, same in baseline:
        print(f"| {label} | {stock[0]:.1f} | {stock[1]:.1f} | {ours[0]:.1f} | {ours[1]:.1f} | "
              f"{stock[0] / max(ours[0], 0.001):.1f}x | {stock[2]:,} / {ours[2]:,} | {'yes' if same else 'NO'} |")
    deep_and_searches = [stock[0] / max(ours[0], 0.001) for label, stock, ours, _s in baseline
                         if label != "list, page 1"]
    print(f"\nDeep pages and searches: stock / ours from {min(deep_and_searches):.1f}x "
          f"to {max(deep_and_searches):.1f}x.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
