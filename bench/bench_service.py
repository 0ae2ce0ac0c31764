"""Service desk pages at scale (issue 4, point 12): `/service-stats/` and `/tickets/queue`, before and after
the daily summary and the ticket indexes of migration 0022, in the same run.

"Before" drops the four indexes of 0022 (`ticket`: resolved, transferred, complaints; `ticket_sla`) and
the summary's coverage, so every figure is counted live over the ticket tables; "after" creates the
indexes, fills the summary (`service_summary.rebuild_all`, timed: the `service_summary_full` job) and
times the same pages again. Each page is requested N times after one warm-up: p50/p95 wall time of the
whole request (server side, no network) and the SQL time inside it. Target: ≤ 300 ms at 1,000,000
customers on PostgreSQL.

Usage (schema with 0022 applied). Without `--password` the in-process test client is signed in as
`--username` directly (no password needed; the pages' permission checks still apply):

    CRM_INSTANCE_DIR=/tmp/bench/instance \\
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/bench_service.py --username manager --repeat 15

`--after-only` keeps the indexes and the summary as they are and times the pages once.
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
    ("service statistics, last 30 days", "/service-stats/"),
    ("service statistics, last 365 days", "/service-stats/?start={year_ago}"),
    ("ticket queue", "/tickets/queue"),
)
# The indexes of migration 0022, as it creates them (PostgreSQL).
INDEXES = (
    ("ix_ticket_resolved_at", "CREATE INDEX ix_ticket_resolved_at ON ticket (resolved_at) "
                              "INCLUDE (created_at, ticket_type, transfer_count, reopen_count)"),
    ("ix_ticket_transferred_created", "CREATE INDEX ix_ticket_transferred_created ON ticket (created_at) "
                                      "WHERE transfer_count > 0"),
    ("ix_ticket_complaint_created", "CREATE INDEX ix_ticket_complaint_created ON ticket (created_at) "
                                    "INCLUDE (customer_id) WHERE ticket_type = 'complaint'"),
    ("ix_ticket_sla_started_breaches", "CREATE INDEX ix_ticket_sla_started_breaches ON ticket_sla (started_at) "
                                       "INCLUDE (ticket_type, response_breached_at, resolve_breaches)"),
)


def _time_pages(client, timer, repeat: int, year_ago: str) -> list[tuple[str, float, float, float]]:  # noqa: ANN001
    out = []
    for label, path in PAGES:
        walls, sqls = [], []
        for i in range(repeat + 1):
            timer.reset()
            t0 = time.perf_counter()
            resp = client.get(path.format(year_ago=year_ago))
            wall = (time.perf_counter() - t0) * 1000
            if resp.status_code != 200:  # reported, and the other pages still timed
                print(f"  {label}: {path} → {resp.status_code}, skipped", flush=True)
                break
            if i:  # the first request warms caches
                walls.append(wall)
                sqls.append(timer.total * 1000)
        if not walls:
            continue
        out.append((label, _percentile(walls, 0.5), _percentile(walls, 0.95), statistics.median(sqls)))
        print(f"  {label:40s} p50 {out[-1][1]:7.1f}  p95 {out[-1][2]:7.1f}  SQL p50 {out[-1][3]:7.1f} ms", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default=os.environ.get("CRM_BENCH_PASSWORD", ""))
    parser.add_argument("--after-only", action="store_true")
    args = parser.parse_args()
    url = use_database(parser, args.database_url)

    import datetime as dt

    from sqlalchemy import delete, func, select, text

    from app import create_app
    from app.extensions import appbuilder, db
    from app.models.customer import Customer
    from app.models.service_summary import ServiceSummaryState
    from app.models.ticket import Ticket
    from app.services import service_summary

    app = create_app({"WTF_CSRF_ENABLED": False, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        customers = db.session.execute(select(func.count()).select_from(Customer)).scalar() or 0
        n_tickets = db.session.execute(select(func.count()).select_from(Ticket)).scalar() or 0
        timer = SqlTimer(db.engine)
    year_ago = (dt.date.today() - dt.timedelta(days=364)).isoformat()
    client = app.test_client()
    if args.password:
        client.post("/login/", data={"username": args.username, "password": args.password})
    else:  # no password given: sign the test client in directly (Flask-Login's session), in-process only
        with app.app_context():
            user = appbuilder.sm.find_user(username=args.username)
            if user is None:
                raise SystemExit(f"no user {args.username}")
            user_id = user.id
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = str(user_id), True
    if client.get("/service-stats/").status_code != 200:
        raise SystemExit(f"{args.username} cannot open /service-stats/ (sign-in failed?)")

    results: dict[str, list] = {}
    fill: dict[str, float] = {}
    if not args.after_only:
        with app.app_context():
            for name, _sql in INDEXES:
                db.session.execute(text(f"DROP INDEX IF EXISTS {name}"))
            db.session.execute(delete(ServiceSummaryState))
            db.session.commit()
        print("before (live counts, no 0022 indexes):", flush=True)
        results["before"] = _time_pages(client, timer, args.repeat, year_ago)
        with app.app_context():
            t0 = time.perf_counter()
            for _name, sql in INDEXES:
                db.session.execute(text(sql))
            db.session.commit()
            fill["indexes_s"] = time.perf_counter() - t0
            db.session.execute(text("ANALYZE ticket"))
            db.session.execute(text("ANALYZE ticket_sla"))
            db.session.commit()
            t0 = time.perf_counter()
            done = service_summary.rebuild_all()
            fill["rebuild_s"] = time.perf_counter() - t0
            fill["days"] = done.get("days", 0)
        print(f"indexes {fill['indexes_s']:.1f} s, full summary rebuild {fill['rebuild_s']:.2f} s "
              f"({fill['days']} days)", flush=True)
    with app.app_context():
        t0 = time.perf_counter()
        service_summary.refresh()  # the nightly job when nothing is missing: yesterday again
        fill["nightly_s"] = time.perf_counter() - t0
    print(f"nightly refresh {fill['nightly_s']:.2f} s", flush=True)
    print("after (summary + indexes):", flush=True)
    results["after"] = _time_pages(client, timer, args.repeat, year_ago)

    print()
    print(f"Database: {customers:,} customers, {n_tickets:,} tickets; {args.repeat} timed requests per row "
          "(after one warm-up).")
    print()
    print("| request | phase | p50 ms | p95 ms | SQL p50 ms |")
    print("|---|---|---:|---:|---:|")
    for phase, rows in results.items():
        for label, p50, p95, sql in rows:
            print(f"| {label} | {phase} | {p50:.1f} | {p95:.1f} | {sql:.1f} |")
    if "before" in results:
        print()
        after = {label: p50 for label, p50, *_r in results["after"]}
        for label, b50, *_b in results["before"]:
            if after.get(label):
                print(f"- {label}: before / after p50 = {b50 / after[label]:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
