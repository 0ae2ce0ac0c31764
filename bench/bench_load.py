"""Load test (issue 7.9): concurrent simulated users against the CRM under gunicorn, then the same
customer list / search / detail requests against a stock Flask-AppBuilder ModelView, side by side.

    CRM_INSTANCE_DIR=/tmp/bench/instance DATABASE_URL=postgresql://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python bench/bench_load.py --password '…' --duration 180 --mix clerk=20,agent=12,sales=10,care=8

1. Prepare (in-process, the same database): sample customers to search for (mobile, resident ID, name) and
   a separate set to edit for each clerk session; create clerk2…clerkN if missing (`--clerks`, password
   `--password`); pick the care accounts (those with the most open follow-ups, else sales1/sales2). Agents
   and salespeople sign in as agent1/agent2 and sales1/sales2, who own the seeded tickets and leads. Every
   password is checked against its hash first: wrong ones would lock the accounts and 127.0.0.1 for 15
   minutes (sign-in lockout) for everyone using the database. `--compare-password` if the compare user's
   differs.
2. Serve `bench.stock_app:create_stock_app()` (the product plus `/stock/customers/`) with the project's
   gunicorn.conf.py (workers from the CPU count) on 127.0.0.1 and a free port — or `--url` to attach to a
   running server (then `/stock/…` is compared only if that server has it).
3. Run the users (bench/load_users.py) for `--duration` seconds with `--think` seconds between pages,
   and sample the load average. 4. Time the stock view against ours, alternating, `--compare-repeat`
   times each after one warm-up, signed in as `--compare-user`. 5. Print Markdown (also `--out FILE`).

Every request counts: an unexpected status, a redirect to the login page, a timeout or a red flash after a
POST is an error; a 409 or the "someone else saved" warning is counted apart as a conflict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load_compare import compare, comparison_table  # noqa: E402
from load_stats import DEFAULT_MIX, Stats, markdown_report, parse_mix  # noqa: E402
from load_users import Customer, Pool, User  # noqa: E402

from bench import use_database  # noqa: E402 - bench/bench.py, after the path is set


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    p.add_argument("--url", help="attach to this running server instead of starting gunicorn")
    p.add_argument("--password", default=os.environ.get("CRM_BENCH_PASSWORD", ""), help="the demo users' password")
    p.add_argument("--mix", default=DEFAULT_MIX, help=f"users per role (default {DEFAULT_MIX})")
    p.add_argument("--duration", type=float, default=180.0, help="seconds of steady load (default 180)")
    p.add_argument("--ramp-up", type=float, default=30.0,
                   help="seconds over which the users start, one by one, before the steady state (default 30)")
    p.add_argument("--think", default="1,3", help="think time between pages, MIN,MAX seconds (default 1,3)")
    p.add_argument("--clerks", type=int, default=None, help="clerk accounts clerk1…clerkN (default: one per clerk)")
    p.add_argument("--care-users", default="", help="comma-separated accounts for the care users (default: auto)")
    p.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads per gunicorn worker; 1 = sync workers (default: gunicorn.conf.py)")
    p.add_argument("--samples", type=int, default=500, help="customers sampled for the searches")
    p.add_argument("--edits-per-clerk", type=int, default=10)
    p.add_argument("--compare-repeat", type=int, default=10, help="0 skips the stock comparison")
    p.add_argument("--compare-block", type=int, default=5,
                   help="requests in a row to one view before the other's turn (1: alternate each request)")
    p.add_argument("--compare-only", action="store_true",
                   help="no simulated users: serve, time the stock view against ours, print that table")
    p.add_argument("--compare-user", default="admin")
    p.add_argument("--compare-password", default=None, help="the compare user's password (default --password)")
    p.add_argument("--deep-page", type=int, default=20_000)
    p.add_argument("--target-p95", type=float, default=300.0)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--log", default=str(Path(os.environ.get("TMPDIR", "/tmp")) / "bench_load_gunicorn.log"),  # noqa: S108
                   help="gunicorn's output")
    p.add_argument("--out", help="also write the Markdown report here")
    args = p.parse_args(argv)
    try:
        args.mix = parse_mix(args.mix)
        lo, hi = (float(x) for x in args.think.split(","))
        if not 0 <= lo <= hi:
            raise ValueError("MIN ≤ MAX, both ≥ 0")
        args.think = (lo, hi)
    except ValueError as exc:
        p.error(str(exc))
    if not args.password:
        p.error("--password (or CRM_BENCH_PASSWORD) is required: the demo users' password")
    args.compare_password = args.compare_password or args.password
    args.database_url = use_database(p, args.database_url)
    return args


# -- 1. prepare -----------------------------------------------------------------------------------------
def prepare(args: argparse.Namespace) -> tuple[dict[str, list[str]], Pool, dict[str, Any]]:
    """Accounts per role, the customers to work on, and a few facts about the database."""
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import appbuilder, db
    from app.models.care import CareTask
    from app.models.customer import Customer as CustomerRow
    from app.models.user import CrmUser
    from app.services import setup
    from app.services.customers import reveal_value

    rng = random.Random(args.seed)
    mix = args.mix
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    with app.app_context():
        clerks = [f"clerk{i}" for i in range(1, (args.clerks or mix.get("clerk", 0) or 1) + 1)]
        for name in clerks:
            if appbuilder.sm.find_user(username=name) is None:
                setup.create_user(name, args.password, "Clerk")
        care_users = [u for u in args.care_users.split(",") if u]
        if not care_users and mix.get("care"):
            busiest = db.session.execute(
                select(CrmUser.username).join(CareTask, CareTask.assignee_id == CrmUser.id)
                .where(CareTask.status == "open").group_by(CrmUser.username)
                .order_by(func.count().desc()).limit(4)).scalars().all()
            care_users = list(busiest) or ["sales1", "sales2"]
        lo, hi = db.session.execute(select(func.min(CustomerRow.id), func.max(CustomerRow.id))).one()
        total = db.session.execute(select(func.count()).select_from(CustomerRow)).scalar()
        clerk_sessions = [f"clerk-{clerks[i % len(clerks)]}-{i // len(clerks)}" for i in range(mix.get("clerk", 0))]
        wanted = args.samples + len(clerk_sessions) * args.edits_per_clerk
        ids = sorted(rng.sample(range(lo, hi + 1), min(hi - lo + 1, wanted * 2)))
        rows = db.session.execute(select(CustomerRow).where(CustomerRow.id.in_(ids))).scalars().all()
        rows = rng.sample(list(rows), min(len(rows), wanted))
        customers = [Customer(r.id, r.name, r.mobile, reveal_value(r)) for r in rows[:args.samples]]
        rest = [r.id for r in rows[args.samples:]]
        edits = {s: rest[i::len(clerk_sessions)] for i, s in enumerate(clerk_sessions)} if clerk_sessions else {}
        db.session.rollback()
        accounts = {"clerk": clerks, "agent": ["agent1", "agent2"], "sales": ["sales1", "sales2"], "care": care_users}
        # Checked here, not by signing in: 50 sessions with a wrong password would lock the accounts and
        # 127.0.0.1 itself (app/security/lockout.py) for everyone else using this database.
        wrong = sorted({name for role, names in accounts.items() if mix.get(role) for name in names
                        if not _password_ok(appbuilder.sm.find_user(username=name), args.password)})
        if wrong:
            raise SystemExit(f"--password does not sign in {', '.join(wrong)}: fix it before 50 users try")
        if args.compare_repeat > 0 and not _password_ok(appbuilder.sm.find_user(username=args.compare_user),
                                                        args.compare_password):
            raise SystemExit(f"--compare-password does not sign in {args.compare_user}")
    return accounts, Pool(customers, edits), {"customers": total}


def _password_ok(user: Any, password: str) -> bool:
    from werkzeug.security import check_password_hash

    return bool(user is not None and user.active and check_password_hash(user.password, password))


# -- 2. serve ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_shape(args: argparse.Namespace) -> str:
    """Workers × threads as gunicorn.conf.py resolves them under this run's overrides."""
    env = {"GUNICORN_WORKERS": str(args.workers) if args.workers else os.environ.get("GUNICORN_WORKERS", ""),
           "GUNICORN_THREADS": str(args.threads) if args.threads else os.environ.get("GUNICORN_THREADS", ""),
           "GUNICORN_WORKER_CLASS": "sync" if args.threads == 1 else os.environ.get("GUNICORN_WORKER_CLASS", "")}
    conf: dict = {}
    saved = {k: os.environ.get(k) for k in env}
    try:
        os.environ.update({k: v for k, v in env.items() if v})
        exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), conf)  # noqa: S102
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    kind = conf.get("worker_class", "sync")
    if kind == "sync" and conf.get("threads", 1) > 1:
        kind = "gthread"  # gunicorn's own rule: threads > 1 turns sync workers into gthread
    return f"gunicorn (gunicorn.conf.py): {conf.get('workers')} {kind} workers × {conf.get('threads', 1)} threads"


def start_gunicorn(args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = args.database_url
    if url.startswith("postgresql"):  # name the connections, to find their backends' CPU afterwards
        url += ("&" if "?" in url else "?") + f"application_name={APP_NAME}"
    env = dict(os.environ, GUNICORN_BIND=f"127.0.0.1:{port}", CRM_SCHEDULER="off", DATABASE_URL=url)
    if args.workers:
        env["GUNICORN_WORKERS"] = str(args.workers)
    if args.threads:
        env["GUNICORN_THREADS"] = str(args.threads)
        if args.threads == 1:
            env["GUNICORN_WORKER_CLASS"] = "sync"
    log = open(args.log, "w")  # noqa: SIM115 - handed to the child, closed with it
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "bench.stock_app:create_stock_app()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}); see {args.log}")
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_gunicorn(proc)
    raise SystemExit(f"gunicorn did not answer /health within 120 s; see {args.log}")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # graceful: in-flight requests finish
        try:
            proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


APP_NAME = "crm_bench_load"  # PostgreSQL application_name of the served app's connections


def _proc_cpu(stat: Path) -> tuple[int, float] | None:
    """(process group, user + system CPU seconds) of one /proc/<pid>/stat, None if it has gone."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # fields after "(comm)": state, ppid, pgrp, …, utime (index 11), stime (12), in clock ticks
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds of every live process in a process group (gunicorn's master and workers), from /proc:
    the app's own cost per request, whatever else the shared machine is doing."""
    found = (_proc_cpu(stat) for stat in Path("/proc").glob("[0-9]*/stat"))
    return sum(cpu for got in found if got and got[0] == pgid for cpu in [got[1]])


def database_cpu_seconds(database_url: str) -> dict[int, float] | None:
    """CPU seconds per PostgreSQL backend serving the app (found by application_name; readable when the
    server runs on this machine), None elsewhere. A backend that exits during the run takes its share along:
    the pool keeps them open, so the sum is a floor."""
    if not database_url.startswith("postgresql"):
        return None
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            pids = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :n"),
                                {"n": APP_NAME}).scalars().all()
    finally:
        engine.dispose()
    cpu = {pid: _proc_cpu(Path(f"/proc/{pid}/stat")) for pid in pids}
    return {pid: c[1] for pid, c in cpu.items() if c}


# -- 3. load ------------------------------------------------------------------------------------------------
def build_users(url: str, args: argparse.Namespace, accounts: dict[str, list[str]], pool: Pool, stats: Stats,
                deadline: float) -> list[User]:
    """One User per simulated person; sessions of one account split its records by `slot`."""
    plan = [(role, accounts[role][i % len(accounts[role])]) for role, n in args.mix.items() for i in range(n)]
    per_account: dict[str, int] = {}
    for _role, name in plan:
        per_account[name] = per_account.get(name, 0) + 1
    seen: dict[str, int] = {}
    users = []
    ramp = getattr(args, "ramp_up", 0.0)
    random.Random(args.seed).shuffle(plan)  # roles interleaved as they arrive
    for k, (role, name) in enumerate(plan):
        slot = seen[name] = seen.get(name, -1) + 1
        # Spread over the ramp-up, as people arrive at work, not 50 sign-ins (scrypt hashes) at once.
        user = User(url, role, name, args.password, slot, per_account[name], pool, stats, deadline, args.think,
                    seed=args.seed + k, start_delay=k * ramp / len(plan))
        users.append(user)
    return users


def run_load(url: str, args: argparse.Namespace, accounts: dict[str, list[str]], pool: Pool,
             duration: float) -> tuple[Stats, float, list[float], list[str]]:
    stats = Stats(steady_from=time.monotonic() + args.ramp_up)
    deadline = stats.steady_from + duration
    users = build_users(url, args, accounts, pool, stats, deadline)
    loads: list[float] = []
    done = threading.Event()

    def sample_load() -> None:
        while not done.wait(5.0):
            loads.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample_load, daemon=True)
    started = time.monotonic()
    sampler.start()
    for u in users:
        u.start()
    for u in users:
        u.join(timeout=max(1.0, deadline - time.monotonic()) + 90)
    elapsed = time.monotonic() - started
    done.set()
    return stats, elapsed, loads, [u.crashed for u in users if u.crashed]


# -- 5. report ---------------------------------------------------------------------------------------------
def server_errors(log_path: str) -> int:
    """5xx responses in gunicorn's access log (a cross-check of what the clients saw)."""
    try:
        text = Path(log_path).read_text(errors="replace")
    except OSError:
        return -1
    return sum(1 for line in text.splitlines() if '" 5' in line and "HTTP/1." in line)


def compare_only(url: str, args: argparse.Namespace, pool: Pool, facts: dict[str, Any],
                 proc: subprocess.Popen | None) -> int:
    load_before = os.getloadavg()[0]
    try:
        results = compare(url, args, pool)
    finally:
        if proc is not None:
            stop_gunicorn(proc)
    if isinstance(results, str):
        print("Stock comparison: " + results)
        return 1
    report = "\n".join([
        f"### Stock Flask-AppBuilder ModelView against ours (signed in as {args.compare_user}, "
        f"{args.compare_repeat} requests each after one warm-up, in turns of {args.compare_block}, no other load)", "",
        f"- {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {facts['customers']:,} customers; server: "
        f"{gunicorn_shape(args) if proc else url}; load average (1 min) before {load_before:.2f}, "
        f"after {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", "",
        comparison_table(results)])
    print("\n" + report)
    if args.out:
        Path(args.out).write_text(report + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print("preparing accounts and samples …", flush=True)
    accounts, pool, facts = prepare(args)
    print(f"  {facts['customers']:,} customers; accounts: {accounts}", flush=True)
    # FAB's pages count from 0: the last of 20-row pages
    args.last_page = max(0, (facts["customers"] - 1) // 20)
    proc = None
    url = args.url
    if not url:
        print("starting gunicorn …", flush=True)
        proc, url = start_gunicorn(args)
    if args.compare_only:
        return compare_only(url, args, pool, facts, proc)
    try:
        load_before = os.getloadavg()
        print(f"{sum(args.mix.values())} users for {args.duration:.0f} s against {url} "
              f"(load average before: {load_before[0]:.2f}) …", flush=True)
        cpu_before, client_before = (group_cpu_seconds(proc.pid) if proc else 0.0), time.process_time()
        db_before = database_cpu_seconds(args.database_url) if proc else None
        stats, elapsed, loads, crashes = run_load(url, args, accounts, pool, args.duration)
        app_cpu = (group_cpu_seconds(proc.pid) - cpu_before) if proc else None
        db_after = database_cpu_seconds(args.database_url) if proc else None
        db_cpu = (sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
                  if db_after is not None and db_before is not None else None)
        client_cpu = time.process_time() - client_before
        results = compare(url, args, pool) if args.compare_repeat > 0 else "skipped (--compare-repeat 0)"
    finally:
        if proc is not None:
            stop_gunicorn(proc)
    notes = [
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {facts['customers']:,} customers; "
        f"{sum(args.mix.values())} users ({', '.join(f'{k} {v}' for k, v in args.mix.items())}), think time "
        f"{args.think[0]:g}–{args.think[1]:g} s; {args.ramp_up:.0f} s ramp-up (users start one by one), then "
        f"{elapsed - args.ramp_up:.0f} s steady (the tables below, except ramp-up and login); "
        f"server: {gunicorn_shape(args) if proc else url}",
        f"load average (1 min) before {load_before[0]:.2f}; during: mean {sum(loads) / max(1, len(loads)):.2f}, "
        f"max {max(loads, default=0):.2f} on {os.cpu_count()} CPUs",
        "accounts: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in accounts.items() if args.mix.get(k)),
    ]
    requests_done = max(1, stats.overall().count)
    if proc is not None:
        notes.append(f"5xx in gunicorn's access log: {server_errors(args.log)} ({args.log})")
        db_text = (f"; PostgreSQL backends serving it: {db_cpu:.0f} s, {db_cpu * 1000 / requests_done:.0f} ms "
                   "per request" if db_cpu is not None else "")
        notes.append(f"CPU during the load — app (gunicorn workers): {app_cpu:.0f} s, "
                     f"{app_cpu * 1000 / requests_done:.0f} ms per request{db_text}; load client: {client_cpu:.0f} s")
    notes += [f"client crash: {c}" for c in crashes]
    steady = max(1.0, elapsed - args.ramp_up)
    out = ["## Load test", "", markdown_report(stats, steady, args.target_p95, notes=notes), ""]
    if isinstance(results, str):
        out += ["Stock comparison: " + results]
    else:
        out += [f"### Stock Flask-AppBuilder ModelView against ours (signed in as {args.compare_user}, "
                f"{args.compare_repeat} requests each after one warm-up, in turns of {args.compare_block}, "
                "after the load)", "",
                comparison_table(results)]
    report = "\n".join(out)
    print("\n" + report)
    if args.out:
        Path(args.out).write_text(report + "\n")
    return 0 if sum(r.errors for r in stats.rows()) == 0 and not crashes else 1


if __name__ == "__main__":
    raise SystemExit(main())
