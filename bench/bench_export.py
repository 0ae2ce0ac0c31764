"""Customer export benchmark (issue 6.6): 1,000,000 rows as CSV and XLSX, rows/s and peak RSS.

Each case runs in a fresh Python process, so `ru_maxrss` (peak resident memory of that process) is
the export's own peak and not the parent's: a streamed export must stay flat however many rows.

Cases:
- `service-csv`, `service-xlsx`: `services.list_export.export_customers` for an admin actor (all
  rows, the list's default order), every byte consumed;
- `http-csv`, `http-xlsx`: the customer list's `/customers/export/<fmt>/` route through the Flask test
  client (signed in as admin), the streamed body consumed chunk by chunk.

Usage (targets: ≥ 50,000 rows/s, RSS < 300 MB):

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/crm_bench CRM_INSTANCE_DIR=/tmp/bench/instance \\
        .venv/bin/python bench/bench_export.py --password PASSWORD [--cases service-csv,http-csv] \\
        [--repeat 10] [--baseline /tmp/old-checkout]

`--baseline` runs the same cases with another checkout's code, alternating run by run, and reports
the ratio of the medians (the machine is shared: only a ratio measured side by side means much).

Each run writes an export audit entry, as any export does. Besides wall-clock rows/s the table shows
rows per CPU-second of the exporting process (the database server's CPU not included): on a shared
machine the wall figure mostly measures the other processes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CASES = ("service-csv", "service-xlsx", "http-csv", "http-xlsx")
TARGET_ROWS_PER_S = 50_000
TARGET_RSS_MB = 300


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def run_case(case: str, user: str, password: str) -> dict:
    """One export in this process; returns rows, bytes, seconds and peak RSS."""
    from sqlalchemy import select

    from app import create_app

    url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app({"WTF_CSRF_ENABLED": False, "SQLALCHEMY_DATABASE_URI": url})
    mode, fmt = case.split("-")
    rss_before = _rss_mb()
    with app.app_context():
        from app.extensions import appbuilder, db
        from app.models.audit_log import AuditLog
        from app.services import list_export
        from app.services.actor import Actor

        size = 0
        start, cpu_start = time.perf_counter(), _cpu_s()
        if mode == "service":
            u = appbuilder.sm.find_user(username=user)
            actor = Actor(id=u.id, username=u.username, roles=frozenset(r.name for r in u.roles))
            for chunk in list_export.export_customers(actor, fmt, details={"bench": True}):
                size += len(chunk)
        else:
            client = app.test_client()
            resp = client.post("/login/", data={"username": user, "password": password})
            if resp.status_code != 302:
                raise SystemExit(f"login as {user} failed ({resp.status_code})")
            resp = client.get(f"/customers/export/{fmt}/", buffered=False)
            if resp.status_code != 200:
                raise SystemExit(f"export answered {resp.status_code}")
            for chunk in resp.response:
                size += len(chunk)
            resp.close()
        seconds, cpu = time.perf_counter() - start, _cpu_s() - cpu_start
        entry = db.session.execute(select(AuditLog).where(AuditLog.action == "export", AuditLog.entity == "customers")
                                   .order_by(AuditLog.id.desc()).limit(1)).scalar()
        rows = json.loads(entry.changes)["rows"] if entry is not None else -1
    return {"case": case, "rows": rows, "bytes": size, "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds) if seconds else 0, "cpu_s": round(cpu, 2),
            "rows_per_cpu_s": round(rows / cpu) if cpu else 0, "rss_mb": round(_rss_mb(), 1),
            "rss_before_mb": round(rss_before, 1)}


def _one(root: Path, case: str, args: argparse.Namespace) -> dict | None:
    """Run one case in a fresh interpreter, with the bench script of the tree at `root`."""
    proc = subprocess.run(  # noqa: S603 - a bench script, a fresh interpreter per case
        [sys.executable, str(root / "bench" / "bench_export.py"), "--one", case, "--user", args.user,
         "--password", args.password],
        capture_output=True, text=True, check=False, cwd=root,
    )
    if proc.returncode != 0:
        print(f"{case}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default=os.environ.get("CRM_BENCH_PASSWORD", ""))
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (p50/p95 when > 1)")
    parser.add_argument("--baseline", type=Path,
                        help="another checkout (e.g. `git archive` of the previous commit): its runs alternate "
                             "with these, and the table gives the ratio of the p50s")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one case in this process
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL")
    if args.one:
        print(json.dumps(run_case(args.one, args.user, args.password)))
        return 0
    trees = {"new": ROOT, **({"old": args.baseline.resolve()} if args.baseline else {})}
    runs: dict[tuple[str, str], list[dict]] = {}
    for _ in range(args.repeat):
        for case in args.cases.split(","):
            for label, root in trees.items():  # alternating, so both see the same machine load
                result = _one(root, case, args)
                if result is not None:
                    runs.setdefault((case, label), []).append(result)
                    print(json.dumps({"tree": label, **result}), flush=True)
    print()
    print("| case | code | runs | rows | MB written | rows/s p50 | rows/s p95 (slowest 5 %) | rows per CPU-s p50 "
          "| peak RSS max (MB) | p50 vs old | targets met (p50) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for (case, label), rs in runs.items():
        rate = [r["rows_per_s"] for r in rs]
        p50, p95 = _pct(rate, 0.5), _pct(rate, 0.05)  # rows/s: the slow tail is the low end
        rss = max(r["rss_mb"] for r in rs)
        old = runs.get((case, "old"))
        ratio = f"{p50 / _pct([r['rows_per_s'] for r in old], 0.5):.2f}×" if old and label == "new" else ""
        ok = p50 >= TARGET_ROWS_PER_S and rss < TARGET_RSS_MB
        print(f"| {case} | {label} | {len(rs)} | {rs[0]['rows']:,} | {rs[0]['bytes'] / 1e6:.1f} | {p50:,} | {p95:,} | "
              f"{_pct([r['rows_per_cpu_s'] for r in rs], 0.5):,} | {rss} | {ratio} | {'yes' if ok else 'no'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
