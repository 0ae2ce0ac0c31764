"""Sales dashboard benchmark (issue 3 point 10): `/sales/dashboard/` from the daily summary against the
live-table queries it replaced, in the same run, through the Flask test client.

Against an existing database (DATABASE_URL, schema with `sales_daily`), it
1. times a full rebuild of the summary (what `crm jobs run sales_summary` and the seed do);
2. times the page N times each way, interleaved so both see the same machine load: "live" swaps in
   the dashboard service as it was before the summary (`BASELINE_COMMIT`, read with `git show`),
   "summary" is the current code; both must show the same figures (checked once first);
3. times the summary's upkeep inside one stage move (flush with and without it, rolled back, so the
   shared data is not changed).

Usage:

    CRM_INSTANCE_DIR=/tmp/bench/instance \\
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/bench_sales.py --password '…' --repeat 20
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench import SqlTimer, _percentile, use_database  # noqa: E402 - bench/bench.py, after the path is set

BASELINE_COMMIT = "ea5fbec"  # the last commit whose sales dashboard grouped the live tables
PAGES = (
    ("default period (11 months), all salespeople", "/sales/dashboard/"),
    ("last 30 days, all", "/sales/dashboard/?start={d30}"),
    ("default period, one salesperson", "/sales/dashboard/?owner={owner}"),
)


def _baseline_module() -> Any:
    source = subprocess.run(["git", "show", f"{BASELINE_COMMIT}:app/services/sales_dashboard.py"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("sales_dashboard_live", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    exec(compile(source, "sales_dashboard_live.py", "exec"), module.__dict__)  # noqa: S102 - our own history
    return module


def _time(client: Any, path: str, timer: SqlTimer) -> tuple[float, float]:
    timer.reset()
    started = time.perf_counter()
    resp = client.get(path)
    wall = (time.perf_counter() - started) * 1000
    assert resp.status_code == 200, (path, resp.status_code)
    return wall, timer.total * 1000


def _figures(module: Any, args: dict[str, Any], today: Any, actor: Any) -> tuple:
    f = module.parse_filters(args, today)  # each version with its own Filters
    return (module.funnel(f, actor), module.revenue_by_month(f, actor), module.by_salesperson(f, actor),
            module.lost_reasons(f, actor))


def _move_overhead(repeat: int) -> tuple[float, float]:
    """p50 ms of flushing one stage move with the summary upkeep and without it (both rolled back)."""
    from sqlalchemy import event, select
    from sqlalchemy.orm import Session

    from app.extensions import db
    from app.models.opportunity import Opportunity
    from app.services import opportunities, sales_summary
    from app.services.actor import SYSTEM

    ids = db.session.execute(select(Opportunity.id).where(Opportunity.stage == "intent")
                             .order_by(Opportunity.id).limit(repeat)).scalars().all()
    db.session.rollback()
    out = []
    for upkeep in (True, False):
        if not upkeep:
            event.remove(Session, "before_flush", sales_summary._before_flush)
            event.remove(Session, "after_flush", sales_summary._after_flush)
        times = []
        for opp_id in ids:
            opp = db.session.get(Opportunity, opp_id)
            started = time.perf_counter()
            opportunities._record_move(opp, opp.stage, "negotiation", SYSTEM, None)
            db.session.flush()
            times.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
        out.append(statistics.median(times))
    event.listen(Session, "before_flush", sales_summary._before_flush)
    event.listen(Session, "after_flush", sales_summary._after_flush)
    return out[0], out[1]


def main() -> int:  # noqa: PLR0915 - a script, top to bottom
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--username", default="manager")
    parser.add_argument("--password", default=os.environ.get("CRM_BENCH_PASSWORD", ""))
    parser.add_argument("--no-rebuild", action="store_true")
    args = parser.parse_args()
    url = use_database(parser, args.database_url)

    import datetime as dt

    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models.opportunity import Opportunity
    from app.services import sales_dashboard, sales_summary
    from app.services.actor import Actor
    from app.views import sales_board

    app = create_app({"WTF_CSRF_ENABLED": False, "SQLALCHEMY_DATABASE_URI": url})
    live = _baseline_module()
    with app.app_context():
        opps = db.session.execute(select(func.count()).select_from(Opportunity)).scalar() or 0
        print(f"{opps:,} opportunities on {db.engine.dialect.name}", flush=True)
        rebuilt = None if args.no_rebuild else sales_summary.rebuild()
        if rebuilt:
            print(f"rebuild: {rebuilt}", flush=True)
        owner = sales_dashboard.salespeople()[0].id
        manager = Actor(id=0, username="bench", roles=frozenset({"Manager"}), department_id=None,
                        permissions=frozenset())
        today = dt.date.today()
        for query in ({}, {"owner": owner}, {"start": (today - dt.timedelta(days=29)).isoformat()}):
            assert _figures(live, query, today, manager) == _figures(sales_dashboard, query, today, manager), query
        print("live and summary figures are equal", flush=True)
        move_with, move_without = _move_overhead(args.repeat)
        timer = SqlTimer(db.engine)

    client = app.test_client()
    resp = client.post("/login/", data={"username": args.username, "password": args.password})
    if resp.status_code != 302 or "/login" in resp.headers.get("Location", ""):
        print(f"could not sign in as {args.username}", file=sys.stderr)
        return 1
    d30 = (dt.date.today() - dt.timedelta(days=29)).isoformat()
    rows = []
    for label, pattern in PAGES:
        path = pattern.format(d30=d30, owner=owner)
        results: dict[str, tuple[list[float], list[float]]] = {"live": ([], []), "summary": ([], [])}
        for module in (live, sales_dashboard):  # warm-up: templates compiled, permissions cached
            sales_board.sales_dashboard = module
            _time(client, path, timer)
        for _ in range(args.repeat):
            for name, module in (("live", live), ("summary", sales_dashboard)):
                sales_board.sales_dashboard = module
                wall, sql = _time(client, path, timer)
                results[name][0].append(wall)
                results[name][1].append(sql)
        sales_board.sales_dashboard = sales_dashboard
        rows.append((label, path, {k: (_percentile(w, 0.5), _percentile(w, 0.95), statistics.median(s))
                                   for k, (w, s) in results.items()}))

    print()
    print(f"Sales dashboard, {opps:,} opportunities, {args.repeat} requests each way, interleaved (ms):")
    print()
    print("| page | live p50 | live p95 | summary p50 | summary p95 | summary SQL p50 | live/summary (p50) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, path, r in rows:
        lp50, lp95, _ls = r["live"]
        sp50, sp95, ss = r["summary"]
        print(f"| {label} (`{path}`) | {lp50:.1f} | {lp95:.1f} | {sp50:.1f} | {sp95:.1f} | {ss:.1f} | "
              f"{lp50 / sp50:.1f}× |")
    if rebuilt:
        print()
        print(f"Full rebuild (`crm jobs run sales_summary`): {rebuilt['ms']} ms, {rebuilt['rows']:,} rows, "
              f"{rebuilt['corrected']:,} corrected.")
    print(f"One stage move, flush p50: {move_with:.1f} ms with the summary upkeep, {move_without:.1f} ms without "
          "(rolled back).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
