"""Seeded service tickets, in proportion to the seeded customers (`crm seed`, issue 4 point 12).

About `PER_CUSTOMER_YEAR` tickets per customer per year over the seeded months, deterministic for a
random seed. Tickets, their timeline events, transfers and department stays are generated in Python
and streamed with the seed's `Sink` (COPY on PostgreSQL), so a million customers add a few hundred
thousand tickets in seconds. Types, channels, transfers and outcomes follow rough call-centre shares;
fault reports go to the technical department, the rest to customer service, and some of those are
transferred to technical. Tickets older than a week are mostly resolved or closed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.timefmt import to_local

PER_CUSTOMER_YEAR = 0.3
BATCH = 50_000
TYPES = (("consultation", 35), ("fault", 25), ("complaint", 15), ("billing_dispute", 15), ("plan_change", 10))
CHANNELS = (("phone", 50), ("web", 20), ("walk_in", 12), ("email", 10), ("social", 8))
PRIORITY = {"consultation": "normal", "fault": "normal", "complaint": "high", "billing_dispute": "normal",
            "plan_change": "low"}
SUBJECTS = {
    "consultation": ("套餐余量查询", "积分兑换咨询", "国际漫游开通咨询", "携号转网咨询"),
    "fault": ("手机无信号", "宽带断网", "晚间网速慢", "无法接听电话"),
    "complaint": ("营业厅服务态度差", "多扣话费投诉", "未经同意开通增值业务", "故障长期未修复"),
    "billing_dispute": ("账单流量费用异常", "国际长途费用争议", "重复扣费", "套餐费用与宣传不符"),
    "plan_change": ("申请更换套餐", "申请降档套餐", "申请办理融合套餐"),
}
TRANSFER_SHARE = {"complaint": 0.25, "billing_dispute": 0.10, "consultation": 0.05, "plan_change": 0.02}

TICKET_COLS = ("id", "ticket_no", "channel", "ticket_type", "category", "priority", "status", "customer_id",
               "subject", "description", "department_id", "assignee_id", "complaint_process", "complaint_result",
               "resolution", "assigned_at", "first_response_at", "resolved_at", "closed_at", "department_since",
               "transfer_count", "reopen_count", "version", "created_at", "updated_at")
EVENT_COLS = ("id", "ticket_id", "kind", "at", "actor_id", "from_status", "to_status", "from_department_id",
              "to_department_id", "assignee_id", "body")
TRANSFER_COLS = ("id", "ticket_id", "from_department_id", "to_department_id", "note", "at", "actor_id")
STAY_COLS = ("id", "ticket_id", "department_id", "entered_at", "left_at", "seconds")
TABLES = ("ticket", "ticket_event", "ticket_transfer", "ticket_department_time")


@dataclass
class Batch:
    tickets: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    transfers: list[tuple] = field(default_factory=list)
    stays: list[tuple] = field(default_factory=list)


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


# Looked up through the seed's own connection: on SQLite another connection's read blocks on the
# seed's open write transaction ("database is locked") once the load spills to disk.
_AGENTS_SQL = (
    "SELECT u.department_id, u.id FROM ab_user u JOIN ab_user_role ur ON ur.user_id = u.id "
    "JOIN ab_role r ON r.id = ur.role_id WHERE r.name = 'Agent' AND u.active = TRUE "
    "AND u.department_id IS NOT NULL ORDER BY u.id"
)


def _agents(sink: Any) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for dept, uid in sink.rows(_AGENTS_SQL):
        out.setdefault(dept, []).append(uid)
    return out


class Generator:
    def __init__(self, seed: int, cust_base: int, customers: int, start: dt.datetime, now: dt.datetime,
                 bases: dict[str, int], sink: Any) -> None:
        self.rng = random.Random(seed * 7919 + 4)
        self.cust_base, self.customers = cust_base, customers
        self.start, self.now = start, now
        self.ids = dict(bases)
        depts = dict(sink.rows("SELECT code, id FROM department"))
        self.cs = depts.get("customer-service") or min(depts.values())
        self.tech = depts.get("technical") or self.cs
        self.agents = _agents(sink)

    def _next(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def _agent(self, dept: int) -> int | None:
        pool = self.agents.get(dept)
        return self.rng.choice(pool) if pool else None

    def batches(self, total: int, size: int = BATCH) -> Iterator[Batch]:
        batch = Batch()
        for _ in range(total):
            self._one(batch)
            if len(batch.tickets) >= size:
                yield batch
                batch = Batch()
        if batch.tickets:
            yield batch

    def _event(self, b: Batch, tid: int, kind: str, at: dt.datetime, actor: int | None, **kw: Any) -> None:
        b.events.append((self._next("ticket_event"), tid, kind, at, actor, kw.get("frm"), kw.get("to"),
                         kw.get("from_dept"), kw.get("to_dept"), kw.get("assignee"), kw.get("body")))

    def _one(self, b: Batch) -> None:  # noqa: PLR0915 - one ticket's whole life, in order
        rng = self.rng
        marks = (len(b.events), len(b.transfers), len(b.stays))
        tid = self._next("ticket")
        kind = _weighted(rng, TYPES)
        channel = _weighted(rng, CHANNELS)
        customer = self.cust_base + rng.randint(1, self.customers)
        span = max(1, int((self.now - self.start).total_seconds()))
        created = self.start + dt.timedelta(seconds=rng.randrange(span))
        subject = rng.choice(SUBJECTS[kind])
        dept = self.tech if kind == "fault" else self.cs
        priority = PRIORITY[kind] if rng.random() > 0.1 else "urgent"
        age_days = (self.now - created).days
        # How far the ticket got: old tickets are mostly finished.
        if age_days > 7:
            outcome = rng.choices(["closed", "resolved", "in_progress"], weights=[70, 27, 3])[0]
        else:
            outcome = rng.choices(["new", "assigned", "in_progress", "waiting_customer", "resolved", "closed"],
                                  weights=[10, 15, 25, 10, 25, 15])[0]
        transferred = kind != "fault" and rng.random() < TRANSFER_SHARE.get(kind, 0) and outcome != "new"
        self._event(b, tid, "created", created, None, to="new", to_dept=dept)
        at = created
        assignee = None
        assigned_at = first_response = resolved_at = closed_at = None
        status = "new"
        stay_start = created
        transfers = 0
        if outcome != "new":
            assignee = self._agent(dept)
            at = at + dt.timedelta(minutes=rng.randint(1, 30))
            assigned_at = at
            self._event(b, tid, "assign", at, None, assignee=assignee, body="auto")
            self._event(b, tid, "status", at, None, frm="new", to="assigned")
            status = "assigned"
        if outcome in ("in_progress", "waiting_customer", "resolved", "closed"):
            at = at + dt.timedelta(minutes=rng.randint(5, 240))
            first_response = at
            self._event(b, tid, "status", at, assignee, frm=status, to="in_progress")
            status = "in_progress"
        if transferred and status == "in_progress":
            at = at + dt.timedelta(hours=rng.randint(1, 24))
            note = "客户问题需技术部排查，已核对账单与套餐，客户诉求见描述"
            b.transfers.append((self._next("ticket_transfer"), tid, dept, self.tech, note, at, assignee))
            b.stays.append((self._next("ticket_department_time"), tid, dept, stay_start, at,
                            int((at - stay_start).total_seconds())))
            self._event(b, tid, "transfer", at, assignee, from_dept=dept, to_dept=self.tech, body=note)
            self._event(b, tid, "status", at, assignee, frm=status, to="transferred")
            dept, stay_start, transfers = self.tech, at, 1
            assignee = self._agent(dept)
            self._event(b, tid, "assign", at, None, assignee=assignee, body="auto")
            at = at + dt.timedelta(minutes=rng.randint(5, 120))
            self._event(b, tid, "status", at, assignee, frm="transferred", to="in_progress")
        if outcome == "waiting_customer":
            at = at + dt.timedelta(hours=rng.randint(1, 12))
            self._event(b, tid, "status", at, assignee, frm="in_progress", to="waiting_customer", body="请客户提供截图")
            status = "waiting_customer"
        process = result = resolution = None
        if outcome in ("resolved", "closed"):
            at = at + dt.timedelta(hours=rng.randint(1, 96 if kind == "complaint" else 48))
            resolution = "已为客户处理并解释"
            if kind == "complaint":
                process, result = "核实情况并联系相关部门处理", "问题已解决，客户认可"
            self._event(b, tid, "status", at, assignee, frm="in_progress", to="resolved", body=resolution)
            resolved_at, status = at, "resolved"
            b.stays.append((self._next("ticket_department_time"), tid, dept, stay_start, at,
                            int((at - stay_start).total_seconds())))
            stay_start = None
            if outcome == "closed":
                at = at + dt.timedelta(days=rng.randint(1, 3))
                self._event(b, tid, "status", at, assignee, frm="resolved", to="closed")
                closed_at, status = at, "closed"
        if stay_start is not None:
            b.stays.append((self._next("ticket_department_time"), tid, dept, stay_start, None, None))
        b.tickets.append((
            tid, f"T{to_local(created):%Y%m%d}{tid:08d}", channel, kind, None, priority, status, customer, subject,
            f"{subject}（演示数据）", dept, assignee, process, result, resolution, assigned_at, first_response,
            resolved_at, closed_at, stay_start or created, transfers, 0, 1, created, at))
        overshoot = at - self.now
        if overshoot > dt.timedelta(0):  # a recent ticket's life ran past "now": move it back
            for rows, first in ((b.tickets, len(b.tickets) - 1), (b.events, marks[0]), (b.transfers, marks[1]),
                                (b.stays, marks[2])):
                for i in range(first, len(rows)):
                    rows[i] = tuple(v - overshoot if isinstance(v, dt.datetime) else v for v in rows[i])
            row = b.tickets[-1]
            b.tickets[-1] = (row[0], f"T{to_local(row[23]):%Y%m%d}{tid:08d}", *row[2:])


def load(sink: Any, seed: int, cust_base: int, customers: int, months: int, today: dt.date,
         step: Callable[[str], None]) -> int:
    """Add the seeded customers' tickets; returns how many."""
    total = round(customers * PER_CUSTOMER_YEAR * months / 12)
    if total <= 0 or customers <= 0:
        return 0
    now = dt.datetime.combine(today, dt.time(0, 0))
    start = now - dt.timedelta(days=round(months * 30.4))
    bases = {t: int(sink.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {t}")) for t in TABLES}  # noqa: S608
    gen = Generator(seed, cust_base, customers, start, now, bases, sink)
    for batch in gen.batches(total):
        sink.load("ticket", TICKET_COLS, batch.tickets)
        sink.load("ticket_event", EVENT_COLS, batch.events)
        sink.load("ticket_transfer", TRANSFER_COLS, batch.transfers)
        sink.load("ticket_department_time", STAY_COLS, batch.stays)
    # The line concerned: the customer's first line (set-based, both databases).
    # One hash join (UPDATE … FROM: PostgreSQL, SQLite ≥ 3.33), not a lookup per ticket: during a
    # large load the subscription indexes are dropped.
    sink.execute(
        "UPDATE ticket SET subscription_id = first_line.sub_id FROM (SELECT customer_id, MIN(id) AS sub_id "  # noqa: S608
        f"FROM subscription WHERE customer_id > {cust_base} GROUP BY customer_id) AS first_line "
        f"WHERE first_line.customer_id = ticket.customer_id AND ticket.id > {bases['ticket']}")
    if sink.pg:
        from app.services.seed_sql import pg_reset_sequences

        pg_reset_sequences(sink, TABLES)
        for table in TABLES:  # fresh statistics: the queue and list plans depend on them
            sink.execute(f"ANALYZE {table}")
    step(f"tickets: {total:,}")
    return total


def fill_summary(say: Callable[[str], None]) -> None:
    """Rebuild the service statistics' daily summary over every seeded day (after the seed's commit:
    the summary also counts the surveys the SLA backfill answers)."""
    from app.services import service_summary

    done = service_summary.rebuild_all()
    say(f"  service statistics summary: {done.get('days', 0):,} days")
