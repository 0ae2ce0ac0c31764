"""Single-user timings of the heavy work-list pages (issue 7.9): ticket queue, ticket page, lead list,
opportunity board — wall time and SQL statements per request, through the Flask test client.

    CRM_INSTANCE_DIR=/tmp/bench/instance DATABASE_URL=postgresql://postgres@127.0.0.1:5432/crm_bench \
        .venv/bin/python bench/bench_worklists.py --password demo-pass-2026 --repeat 10
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from bench import SqlTimer, _percentile, use_database  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--password", required=True, help="the demo users' password (agent1, sales1)")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--show-sql", type=float, metavar="MS", default=None,
                        help="print the statements of the last request that took at least MS")
    args = parser.parse_args()
    use_database(parser, args.database_url)

    from app import create_app
    from app.extensions import db

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False  # a timing client, not a browser
    with app.app_context():
        engine = db.engine
    timer = SqlTimer(engine)
    client = app.test_client()
    slow: list[tuple[float, str]] = []
    if args.show_sql is not None:
        from sqlalchemy import event

        @event.listens_for(engine, "before_cursor_execute")
        def _start(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
            conn.info["_wl_t"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _end(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
            slow.append(((time.perf_counter() - conn.info["_wl_t"]) * 1000, f"{statement} {parameters}"))

    def login(user: str) -> None:
        client.get("/logout/")
        resp = client.post("/login/", data={"username": user, "password": args.password})
        if resp.status_code != 302:
            raise SystemExit(f"sign-in as {user} failed ({resp.status_code})")

    login("agent1")
    queue = client.get("/tickets/queue?tab=mine").get_data(as_text=True)
    ticket_ids = re.findall(r'href="/tickets/(\d+)"', queue)
    ticket = ticket_ids[0] if ticket_ids else "1"
    cases = [
        ("agent1", "ticket queue", "/tickets/queue?tab=mine"),
        ("agent1", "ticket page", f"/tickets/{ticket}"),
        ("sales1", "lead list", "/leads/list/"),
        ("sales1", "opportunity board", "/sales/board/"),
    ]
    only = {c.strip() for c in args.only.split(",") if c.strip()}
    # App CPU (this process's CPU time) is the figure that survives a busy shared machine; wall time
    # and SQL time also count waiting for a CPU.
    print("| page | p50 ms | p95 ms | app CPU ms (p50) | SQL statements | SQL ms (p50) |")
    print("|---|---:|---:|---:|---:|---:|")
    current = "agent1"
    for user, name, url in cases:
        if only and name not in only:
            continue
        if user != current:
            login(user)
            current = user
        client.get(url)  # warm-up
        walls, cpus, sqls, stmts = [], [], [], 0
        for _ in range(args.repeat):
            slow.clear()
            timer.reset()
            t0, c0 = time.perf_counter(), time.process_time()
            resp = client.get(url)
            walls.append((time.perf_counter() - t0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
            sqls.append(timer.total * 1000)
            stmts = timer.statements
            if resp.status_code != 200:
                raise SystemExit(f"{url}: {resp.status_code}")
        print(f"| {name} | {_percentile(walls, 0.5):.1f} | {_percentile(walls, 0.95):.1f} | "
              f"{_percentile(cpus, 0.5):.1f} | {stmts} | "
              f"{_percentile(sqls, 0.5):.1f} |")
        for ms, text in slow:
            if ms >= (args.show_sql or 0):
                print(f"    {ms:7.1f} ms  {' '.join(text.split())[:400]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
