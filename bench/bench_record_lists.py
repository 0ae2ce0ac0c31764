"""Bill, payment, usage and business-change list pages on a seeded database: statements and time
per page, with the list's eager loading of each row's related records on and off, interleaved.

    CRM_INSTANCE_DIR=/tmp/bench/instance .venv/bin/python bench/bench_record_lists.py \
        --database-url postgresql://postgres@127.0.0.1:5432/crm_bench --password …
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench import SqlTimer, _percentile, use_database  # noqa: E402

PAGES = {"bills p0": "/bills/list/", "bills p500": "/bills/list/?page_BillModelView=500",
         "payments p0": "/payments/list/", "payments p500": "/payments/list/?page_PaymentModelView=500",
         "usage p0": "/usage/list/", "changes p0": "/business-changes/list/"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--username", default="manager")
    parser.add_argument("--password", default=os.environ.get("CRM_BENCH_PASSWORD"))
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    url = use_database(parser, args.database_url)

    from app import create_app
    from app.extensions import db
    from app.views import records

    app = create_app({"WTF_CSRF_ENABLED": False, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        timer = SqlTimer(db.engine)
    views = {"bills": records.BillModelView, "payments": records.PaymentModelView,
             "usage": records.UsageRecordModelView, "changes": records.BusinessChangeModelView}
    eager = {name: view.datamodel.eager for name, view in views.items()}
    client = app.test_client()
    resp = client.post("/login/", data={"username": args.username, "password": args.password})
    assert resp.status_code == 302, "login failed"
    print("| page | eager | statements | p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    for label, path in PAGES.items():
        view = views[label.split()[0]]
        samples: dict[bool, list[float]] = {True: [], False: []}
        statements: dict[bool, int] = {}
        for _ in range(args.repeat):
            for on in (True, False):  # interleaved: both see the same background load
                view.datamodel.eager = eager[label.split()[0]] if on else ()
                timer.reset()
                start = time.perf_counter()
                resp = client.get(path)
                samples[on].append((time.perf_counter() - start) * 1000)
                assert resp.status_code == 200, (path, resp.status_code)
                statements[on] = timer.statements
        for on in (True, False):
            print(f"| {label} | {'on' if on else 'off'} | {statements[on]} | {_percentile(samples[on], .5):.1f} "
                  f"| {_percentile(samples[on], .95):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
