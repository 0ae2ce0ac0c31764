"""Customer import benchmark (issue 8.1): 100,000 valid rows into a fresh database, SQLite and PostgreSQL.

Generates a CSV of N customers (checksummed resident IDs from python-stdnum's rules, unique
mobiles), then for each target runs, in a child process, `crm init` on a fresh database and the
real import (`services.importing.runner.run`: read, validate every row with the shared
validators, duplicate look-ups, per-row AES-GCM encryption of the ID number, set-based INSERT in
batches of 1000, run record and audit entry). Prints the seconds of the import alone.

    .venv/bin/python bench/bench_import.py                       # 100,000 rows, SQLite and PostgreSQL
    .venv/bin/python bench/bench_import.py --rows 20000 --targets sqlite

PostgreSQL: a database named crm_bench_import is created on --pg-server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "crm_bench_import"
REGIONS = ("110105", "310115", "440305", "330106", "510107", "420106")


def make_file(path: Path, rows: int) -> None:
    from app.services.identity import make_id_number

    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "身份证号", "手机号", "城市", "地址"])
        for n in range(rows):
            # (region, birth day, order code) is unique per n; the mobile is 139 + 8 digits of n.
            region = REGIONS[n % len(REGIONS)]
            birth = dt.date(1960, 1, 1) + dt.timedelta(days=(n // len(REGIONS)) // 500)
            ident = make_id_number(region, birth, (n // len(REGIONS)) % 500, "M" if n % 2 else "F")
            w.writerow([f"客户{n}", ident, f"139{n:08d}", "杭州", f"西湖区文三路{n % 999}号"])


def child(target_url: str, file: str) -> None:
    """Runs in a fresh process: init the schema, import, print JSON figures."""
    os.environ["DATABASE_URL"] = target_url
    from app import create_app
    from app.services import setup
    from app.services.actor import SYSTEM
    from app.services.importing import runner

    app = create_app({"SQLALCHEMY_DATABASE_URI": target_url, "CRM_SCHEDULER": "off"})
    with app.app_context():
        setup.init()
        data = Path(file).read_bytes()
        t0, c0 = time.perf_counter(), time.process_time()
        report = runner.run("customers", Path(file).name, data, SYSTEM)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        from sqlalchemy import func, select

        from app.extensions import db
        from app.models.customer import Customer

        count = db.session.execute(select(func.count(Customer.id))).scalar()
    print(json.dumps({"seconds": round(seconds, 1), "cpu": round(cpu, 1), "created": report.created,
                      "failed": report.failed, "customers": count}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--targets", default="sqlite,postgresql")
    parser.add_argument("--pg-server", default=PG_SERVER)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="crm-bench-import-"))
    os.environ.setdefault("CRM_INSTANCE_DIR", str(tmp / "instance"))
    os.environ.setdefault("CRM_SECRET_KEY", "bench-secret-key-that-is-long-enough-for-hs256")
    os.environ.setdefault("CRM_FIELD_KEY", base64.b64encode(b"b" * 32).decode())
    os.environ["CRM_SCHEDULER"] = "off"
    if args.child:
        child(*args.child)
        return
    file = tmp / "customers.csv"
    t0 = time.perf_counter()
    make_file(file, args.rows)
    print(f"generated {args.rows} rows ({file.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
    for target in args.targets.split(","):
        if target == "sqlite":
            url = f"sqlite:///{tmp / 'bench.db'}"
            _run_child(url, file, target)
        elif target == "postgresql":
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            server = make_url(args.pg_server.replace("postgresql://", "postgresql+psycopg://", 1))
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{PG_NAME}"'))
            try:
                _run_child(server.set(database=PG_NAME).render_as_string(hide_password=False), file, target)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
                admin.dispose()


def _run_child(url: str, file: Path, label: str) -> None:
    out = subprocess.run([sys.executable, __file__, "--child", url, str(file)], capture_output=True, text=True,
                         check=False, cwd=ROOT)
    line = next((ln for ln in reversed(out.stdout.splitlines()) if ln.startswith("{")), None)
    if out.returncode != 0 or line is None:
        print(f"{label}: FAILED\n{out.stderr[-3000:]}")
        return
    fig = json.loads(line)
    print(f"{label}: imported {fig['created']} customers ({fig['failed']} failed, {fig['customers']} in the table) "
          f"in {fig['seconds']} s wall ({fig.get('cpu', '?')} s CPU in the importing process)")


if __name__ == "__main__":
    main()
