"""Timings, the user-mix parser and the Markdown report of `bench/bench_load.py` (no app imports).

Kept apart from the simulated users so the arithmetic can be tested without a server:
tests/hardening/test_bench_load.py.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from bench import _percentile  # bench/bench.py (bench_load puts bench/ on sys.path first)

ROLES = ("clerk", "agent", "sales", "care")
DEFAULT_MIX = "clerk=20,agent=12,sales=10,care=8"
OK, ERROR, CONFLICT = "ok", "error", "conflict"
RAMP_UP = "ramp-up (users signing in, first pages)"  # requests started before the steady state


def parse_mix(text: str) -> dict[str, int]:
    """`"clerk=20,agent=12"` → `{"clerk": 20, "agent": 12}`; a role may appear once, counts ≥ 0,
    at least one user in all. Raises ValueError with the offending part."""
    mix: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        role, sep, count = (s.strip() for s in part.partition("="))
        if not sep or role not in ROLES:
            raise ValueError(f"{part!r}: expected ROLE=COUNT with ROLE one of {', '.join(ROLES)}")
        if role in mix:
            raise ValueError(f"{role!r} given twice")
        if not count.isdigit():
            raise ValueError(f"{part!r}: COUNT must be a whole number ≥ 0")
        mix[role] = int(count)
    if sum(mix.values()) < 1:
        raise ValueError("the mix has no users")
    return mix


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (`pct` in 0..1), 0 for no values."""
    return _percentile(values, pct)


@dataclass
class OpSummary:
    op: str
    count: int
    errors: int
    conflicts: int
    p50: float
    p95: float
    p99: float
    mean: float


@dataclass
class Stats:
    """Every request's duration (ms) and outcome, per operation; safe to record from many threads."""

    timings: dict[str, list[float]] = field(default_factory=dict)
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    retries: dict[str, int] = field(default_factory=dict)  # requests re-sent after a connection reset
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    max_samples: int = 25
    steady_from: float = 0.0  # time.monotonic() when the last user has started: the steady state begins

    def name_for(self, op: str, started: float) -> str:
        """Requests started during the ramp-up are reported together, apart from the steady state."""
        return op if op == "login" or started >= self.steady_from else RAMP_UP

    def record(self, op: str, ms: float, outcome: str = OK, detail: str = "") -> None:
        with self.lock:
            self.timings.setdefault(op, []).append(ms)
            counts = self.outcomes.setdefault(op, {OK: 0, ERROR: 0, CONFLICT: 0})
            counts[outcome] += 1
            if outcome != OK and len(self.error_samples) < self.max_samples:
                self.error_samples.append(f"{op}: {outcome}: {detail}"[:300])

    def note_retry(self, op: str) -> None:
        with self.lock:
            self.retries[op] = self.retries.get(op, 0) + 1

    def fail(self, op: str, outcome: str, detail: str) -> None:
        """Mark an already timed request as failed after all (e.g. its redirect showed a red flash)."""
        with self.lock:
            counts = self.outcomes.setdefault(op, {OK: 0, ERROR: 0, CONFLICT: 0})
            counts[outcome] += 1
            if counts[OK]:
                counts[OK] -= 1
            if len(self.error_samples) < self.max_samples:
                self.error_samples.append(f"{op}: {outcome}: {detail}"[:300])

    def _summary(self, op: str, values: list[float], counts: dict[str, int]) -> OpSummary:
        mean = sum(values) / len(values) if values else 0.0
        return OpSummary(op, len(values), counts[ERROR], counts[CONFLICT], percentile(values, 0.50),
                         percentile(values, 0.95), percentile(values, 0.99), mean)

    def rows(self) -> list[OpSummary]:
        with self.lock:
            return [self._summary(op, list(self.timings.get(op, [])), counts)
                    for op, counts in sorted(self.outcomes.items())]

    def overall(self, exclude: tuple[str, ...] = ()) -> OpSummary:
        with self.lock:
            values = [ms for op, v in self.timings.items() if op not in exclude for ms in v]
            counts = {k: sum(c[k] for op, c in self.outcomes.items() if op not in exclude)
                      for k in (OK, ERROR, CONFLICT)}
        return self._summary("all requests", values, counts)


def _row(s: OpSummary, rate: float | None = None) -> str:
    rate_cell = f" {rate:.1f} |" if rate is not None else ""
    return (f"| {s.op} | {s.count:,} | {s.errors} | {s.conflicts} | {s.p50:.1f} | {s.p95:.1f} | {s.p99:.1f} |"
            f"{rate_cell}")


def markdown_report(stats: Stats, seconds: float, target_p95: float = 300.0,
                    exclude: tuple[str, ...] = ("login", RAMP_UP), notes: list[str] | None = None) -> str:
    """Per-operation and overall table (sorted by operation), then the verdict against the target.
    `exclude` names operations left out of the overall line, the steady state over `seconds` (sign-in happens
    once per user, at the start); errors count wherever they happen."""
    lines = ["| operation | requests | errors | 409 / conflicts | p50 ms | p95 ms | p99 ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [_row(s) for s in stats.rows()]
    total = stats.overall(exclude)
    lines += ["", "| overall | requests | errors | 409 / conflicts | p50 ms | p95 ms | p99 ms | requests/s |",
              "|---|---:|---:|---:|---:|---:|---:|---:|", _row(total, total.count / seconds if seconds else 0.0)]
    errors = sum(r.errors for r in stats.rows())
    met = total.p95 <= target_p95 and errors == 0
    worst = max((s for s in stats.rows() if s.op not in exclude), key=lambda s: s.p95, default=None)
    lines += ["", f"Target p95 ≤ {target_p95:.0f} ms with 0 errors: **{'met' if met else 'not met'}** "
                  f"(overall p95 {total.p95:.1f} ms, {errors} errors in all requests"
                  + (f"; slowest operation: {worst.op}, p95 {worst.p95:.1f} ms" if worst else "") + ")."]
    if stats.retries:
        notes = [f"re-sent once after the server closed a kept-alive connection (as a browser does): "
                 f"{sum(stats.retries.values())} requests ("
                 + ", ".join(f"{op} {n}" for op, n in sorted(stats.retries.items())) + ")"] + (notes or [])
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    if stats.error_samples:
        lines += ["", "First errors / conflicts:", ""] + [f"    {e}" for e in stats.error_samples]
    return "\n".join(lines)
