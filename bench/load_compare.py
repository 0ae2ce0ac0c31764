"""Step 4 of `bench/bench_load.py`: the same customer list / search / detail requests against a stock
Flask-AppBuilder ModelView (`bench/stock_app.py`, `/stock/customers/`) and against ours, on one server,
signed in as one user, taking turns so both see the same machine.

They take turns in blocks (`--compare-block`, default 5 requests of ours, then 5 of stock, and again):
request by request (`--compare-block 1`, the method up to 2026-11-27), each of ours came right after a
stock request that had read 400,000 rows, and paid for the caches that one emptied — about 6 ms on a
deep page measured on 2026-11-27 (27.6 ms after a stock page, 21.6 ms after /health). A user of
either list pages through it, not through the other. Both methods are in bench/RESULTS.md."""

from __future__ import annotations

import argparse
import time

import requests
from load_stats import percentile
from load_users import Pool, csrf_of


def comparison_cases(pool: Pool, deep: int, last: int | None = None) -> list[tuple[str, str, str]]:
    # A three-character name: its given name (two characters) is the other search, the one pg_trgm cannot serve.
    c = next((c for c in pool.customers if len(c.name) >= 3), pool.customers[0])
    given = c.name[1:] if len(c.name) >= 3 else c.name
    ps = 20
    last_page = [] if not last else [
        (f"customer list, last page ({last:,})",
         f"/customers/list/?page_CustomerModelView={last}&psize_CustomerModelView={ps}",
         f"/stock/customers/list/?page_StockCustomerView={last}&psize_StockCustomerView={ps}")]
    return [
        ("customer list, page 1", "/customers/list/", "/stock/customers/list/"),
        (f"customer list, page {deep:,}",
         f"/customers/list/?page_CustomerModelView={deep}&psize_CustomerModelView={ps}",
         f"/stock/customers/list/?page_StockCustomerView={deep}&psize_StockCustomerView={ps}"),
        *last_page,
        (f"name contains '{given}'", f"/customers/list/?_flt_2_name={given}",
         f"/stock/customers/list/?_flt_2_name={given}"),
        (f"name contains '{c.name}'", f"/customers/list/?_flt_2_name={c.name}",
         f"/stock/customers/list/?_flt_2_name={c.name}"),
        ("mobile equal to", f"/customers/list/?_flt_3_mobile={c.mobile}",
         f"/stock/customers/list/?_flt_3_mobile={c.mobile}"),
        (f"mobile starts with {c.mobile[:4]}", f"/customers/list/?_flt_0_mobile={c.mobile[:4]}",
         f"/stock/customers/list/?_flt_0_mobile={c.mobile[:4]}"),
        ("customer detail (ours: 360 page; stock: show)", f"/customer360/{c.id}", f"/stock/customers/show/{c.id}"),
    ]


def turns(repeat: int, block: int) -> list[str]:
    """The order of the timed requests: `block` of ours, then `block` of the stock view, and again,
    until each has had `repeat`."""
    order: list[str] = []
    left = {"ours": repeat, "stock": repeat}
    while any(left.values()):
        for key in ("ours", "stock"):
            n = min(max(1, block), left[key])
            order += [key] * n
            left[key] -= n
    return order


def compare(url: str, args: argparse.Namespace, pool: Pool) -> list[tuple[str, list[float], list[float]]] | str:
    http = requests.Session()
    page = http.get(url + "/login/", timeout=60)
    resp = http.post(url + "/login/", data={"username": args.compare_user, "password": args.compare_password,
                                            "csrf_token": csrf_of(page.text)}, allow_redirects=False, timeout=60)
    if resp.status_code != 302 or "/login" in resp.headers.get("Location", ""):
        return f"sign-in as {args.compare_user} failed ({resp.status_code})"
    if http.get(url + "/stock/customers/list/", timeout=120, allow_redirects=False).status_code == 404:
        return "this server has no /stock/customers/ view (start it with bench.stock_app:create_stock_app())"
    results = []
    for label, ours_path, stock_path in comparison_cases(pool, args.deep_page, getattr(args, "last_page", None)):
        times: dict[str, list[float]] = {"ours": [], "stock": []}
        paths = {"ours": ours_path, "stock": stock_path}
        # One warm-up each, untimed; then taking turns, so both see the same machine.
        for i, key in enumerate(["ours", "stock", *turns(args.compare_repeat, getattr(args, "compare_block", 1))]):
            t0 = time.perf_counter()
            r = http.get(url + paths[key], timeout=300, allow_redirects=False)
            ms = (time.perf_counter() - t0) * 1000
            if r.status_code != 200:
                return f"{label} ({key}): {paths[key]} → {r.status_code}"
            if i >= 2:
                times[key].append(ms)
        results.append((label, times["ours"], times["stock"]))
        print(f"  {label}: ours p50 {percentile(times['ours'], .5):.1f} ms, "
              f"stock p50 {percentile(times['stock'], .5):.1f} ms", flush=True)
    return results


def comparison_table(results: list[tuple[str, list[float], list[float]]]) -> str:
    lines = ["| request | ours p50 ms | ours p95 ms | stock p50 ms | stock p95 ms | stock / ours (p50) |",
             "|---|---:|---:|---:|---:|---:|"]
    for label, ours, stock in results:
        o50, s50 = percentile(ours, .5), percentile(stock, .5)
        lines.append(f"| {label} | {o50:.1f} | {percentile(ours, .95):.1f} | {s50:.1f} | "
                     f"{percentile(stock, .95):.1f} | {s50 / o50 if o50 else 0:.1f}× |")
    return "\n".join(lines)


