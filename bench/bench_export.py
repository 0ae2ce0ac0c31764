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
        .venv/bin/python bench/bench_export.py --password PASSWORD [--cases service-csv,http-csv]

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default=os.environ.get("CRM_BENCH_PASSWORD", ""))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one case in this process
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL")
    if args.one:
        print(json.dumps(run_case(args.one, args.user, args.password)))
        return 0
    results = []
    for case in args.cases.split(","):
        proc = subprocess.run(  # noqa: S603 - this script, a fresh interpreter per case
            [sys.executable, __file__, "--one", case, "--user", args.user, "--password", args.password],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            print(f"{case}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(result)
        print(json.dumps(result), flush=True)
    print()
    print("| case | rows | MB written | seconds | rows/s | rows per CPU-s | peak RSS (MB) | targets met |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        ok = r["rows_per_s"] >= TARGET_ROWS_PER_S and r["rss_mb"] < TARGET_RSS_MB
        print(f"| {r['case']} | {r['rows']:,} | {r['bytes'] / 1e6:.1f} | {r['seconds']} | {r['rows_per_s']:,} | "
              f"{r['rows_per_cpu_s']:,} | {r['rss_mb']} | {'yes' if ok else 'no'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
