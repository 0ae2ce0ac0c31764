"""Seeded sales data, in proportion to the seeded customers (`crm seed`, issue 3 point 10).

About `OPPORTUNITY_SHARE` of the seeded customers get an opportunity history (stage changes in order,
won or lost for most older ones, lost with a reason), about 40 % of those came from a converted lead,
and `OPEN_LEAD_SHARE` of the customer count are open leads still being worked. Every opportunity and
lead has one to three contact logs; most won opportunities have an order (mostly closed). Rows are
generated in Python from one `random.Random` and streamed with the seed's `Sink` (COPY on PostgreSQL);
owners follow the customer's owner (one set-based UPDATE). Audit entries are not written for seeded rows.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.models.opportunity import FUNNEL_RANK as RANK
from app.services.leads import PLAN_INTEREST_POINTS, RECENCY_POINTS, SOURCE_POINTS, TEXT_INTEREST_POINTS

OPPORTUNITY_SHARE = 0.20
OPEN_LEAD_SHARE = 0.05
FROM_LEAD_SHARE = 0.40
BATCH = 50_000
SOURCES = (("walk_in", 25), ("hotline", 20), ("website", 20), ("social", 12), ("partner", 8), ("campaign", 15))
PATHS = (  # stage path after "potential", with weights
    ((), 12), (("intent",), 10), (("intent", "negotiation"), 8), (("intent", "negotiation", "won"), 35),
    (("lost",), 10), (("intent", "lost"), 13), (("intent", "negotiation", "lost"), 12),
)
LOST_REASONS = ("价格偏高", "选择了其他运营商", "暂无需求", "联系不上", "合约未到期", "信号覆盖不好")
INTERESTS = ("5G套餐升级", "家庭宽带", "融合套餐", "流量包", "国际漫游", "副卡")
METHODS = (("phone", 50), ("wechat", 20), ("sms", 10), ("face_to_face", 12), ("email", 8))
CONTENTS = ("介绍了套餐资费", "客户询问合约期和优惠", "发送了套餐对比表", "约定到店办理", "客户需要和家人商量",
            "确认了宽带安装地址", "客户对价格有顾虑")
FEEDBACK = ("有兴趣", "再考虑一下", "希望再优惠一些", "同意办理", None)
NAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张"

LEAD_COLS = ("id", "name", "mobile", "email", "city", "source", "interest_plan_id", "interest", "notes", "owner_id",
             "status", "disqualify_reason", "priority_score", "last_activity_at", "customer_id", "converted_at",
             "created_customer", "version", "created_at", "updated_at")
OPP_COLS = ("id", "name", "customer_id", "lead_id", "owner_id", "stage", "expected_revenue", "expected_close_date",
            "plan_id", "products", "lost_reason", "stage_entered_at", "closed_at", "reached_rank", "version",
            "created_at", "updated_at")
CHANGE_COLS = ("id", "opportunity_id", "from_stage", "to_stage", "changed_by_id", "changed_at", "note")
LOG_COLS = ("id", "lead_id", "opportunity_id", "customer_id", "contacted_at", "method", "content", "feedback",
            "next_step", "next_contact_date", "owner_id", "created_at")
ORDER_COLS = ("id", "opportunity_id", "customer_id", "owner_id", "state", "total", "list_total", "notes",
              "decided_by_id", "decided_at", "state_changed_at", "version", "created_at", "updated_at")
LINE_COLS = ("id", "order_id", "kind", "plan_id", "description", "quantity", "unit_price", "list_price")
TABLES = ("lead", "opportunity", "opportunity_stage_change", "contact_log", "sales_order", "sales_order_line")


@dataclass
class Batch:
    leads: list[tuple] = field(default_factory=list)
    opps: list[tuple] = field(default_factory=list)
    changes: list[tuple] = field(default_factory=list)
    logs: list[tuple] = field(default_factory=list)
    orders: list[tuple] = field(default_factory=list)
    lines: list[tuple] = field(default_factory=list)

    def size(self) -> int:
        return len(self.opps) + len(self.leads)


def _weighted(rng: random.Random, table: tuple) -> Any:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


def _score(source: str, plan: bool, interest: bool, last: dt.datetime, now: dt.datetime) -> int:
    days = max((now - last).days, 0)
    return (SOURCE_POINTS[source] + (PLAN_INTEREST_POINTS if plan else TEXT_INTEREST_POINTS if interest else 0)
            + next((p for limit, p in RECENCY_POINTS if days <= limit), 0))


class Generator:
    def __init__(self, seed: int, cust_base: int, customers: int, start: dt.datetime, now: dt.datetime,
                 bases: dict[str, int], plans: list[tuple[int, Decimal]], sales: list[int],
                 managers: list[int]) -> None:
        self.rng = random.Random(seed * 7919 + 3)
        self.cust_base, self.customers, self.start, self.now = cust_base, customers, start, now
        self.ids = dict(bases)
        self.plans, self.sales, self.managers = plans, sales or [None], managers or [None]

    def _next(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def _when(self, after: dt.datetime, lo_h: int, hi_h: int) -> dt.datetime:
        return min(after + dt.timedelta(hours=self.rng.randint(lo_h, hi_h), minutes=self.rng.randint(0, 59)),
                   self.now - dt.timedelta(minutes=1))

    def _log(self, b: Batch, at: dt.datetime, owner: Any, lead: int | None = None, opp: int | None = None,
             customer: int | None = None) -> None:
        rng = self.rng
        b.logs.append((self._next("contact_log"), lead, opp, customer, at, _weighted(rng, METHODS),
                       rng.choice(CONTENTS), rng.choice(FEEDBACK), None, None, owner, at))

    def opportunity(self, b: Batch) -> None:  # noqa: PLR0915 - one opportunity's whole life, in order
        rng = self.rng
        customer = self.cust_base + rng.randint(1, self.customers)
        owner = rng.choice(self.sales)
        span = max(1, int((self.now - self.start).total_seconds()))
        created = self.start + dt.timedelta(seconds=rng.randrange(span))
        plan_id, fee = rng.choice(self.plans) if self.plans else (None, Decimal("59.00"))
        revenue = (fee * 12 * rng.choice((1, 1, 2, 3))).quantize(Decimal("0.01"))
        lead_id = None
        if rng.random() < FROM_LEAD_SHARE:
            lead_id = self._next("lead")
            lead_created = created - dt.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 23))
            source = _weighted(rng, SOURCES)
            b.leads.append((lead_id, rng.choice(NAMES) + "先生", None, None, None, source, plan_id, None, None, owner,
                            "converted", None, _score(source, True, True, created, self.now), created, customer,
                            created, rng.random() < 0.3, 1, lead_created, created))
            self._log(b, lead_created + dt.timedelta(hours=2), owner, lead=lead_id)
        opp_id = self._next("opportunity")
        path = _weighted(rng, PATHS)
        at, stage, reached = created, "potential", 0
        b.changes.append((self._next("opportunity_stage_change"), opp_id, None, "potential", owner, at, None))
        self._log(b, self._when(at, 1, 48), owner, opp=opp_id, customer=customer)
        for step in path:
            nxt = self._when(at, 24, 24 * 12)
            if nxt <= at:
                break
            at = nxt
            b.changes.append((self._next("opportunity_stage_change"), opp_id, stage, step, owner, at, None))
            stage = step
            reached = max(reached, RANK.get(step, 0))
            if rng.random() < 0.6:
                self._log(b, self._when(at, 1, 72), owner, opp=opp_id, customer=customer)
        closed = at if stage in ("won", "lost") else None
        lost_reason = rng.choice(LOST_REASONS) if stage == "lost" else None
        close_date = (created + dt.timedelta(days=rng.randint(7, 60))).date()
        b.opps.append((opp_id, rng.choice(INTERESTS), customer, lead_id, owner, stage, str(revenue), close_date,
                       plan_id, None, lost_reason, at, closed, reached, 1, created, at))
        if stage == "won" and rng.random() < 0.75:
            self._order(b, opp_id, customer, owner, at, plan_id, fee)

    def _order(self, b: Batch, opp_id: int, customer: int, owner: Any, won_at: dt.datetime, plan_id: Any,
               fee: Decimal) -> None:
        rng = self.rng
        order_id = self._next("sales_order")
        price = (fee * Decimal(rng.choice(("1.00", "0.95", "0.90", "0.80")))).quantize(Decimal("0.01"))
        lines = [(self._next("sales_order_line"), order_id, "plan", plan_id, None, 1, price, fee)]
        if rng.random() < 0.3:
            device = Decimal(rng.choice(("999.00", "1999.00", "2999.00")))
            lines.append((self._next("sales_order_line"), order_id, "device", None, "5G手机", 1, device, device))
        total = sum((ln[6] for ln in lines), Decimal("0.00"))
        list_total = sum((ln[7] for ln in lines), Decimal("0.00"))
        state = rng.choices(("closed", "collected", "delivered", "approved", "submitted", "draft", "rejected"),
                            weights=(60, 10, 8, 7, 6, 5, 4))[0]
        at = self._when(won_at, 1, 72)
        decided = self._when(at, 1, 24) if state not in ("draft", "submitted") else None
        changed = self._when(decided or at, 1, 96) if decided else at
        b.orders.append((order_id, opp_id, customer, owner, state, str(total), str(list_total), None,
                         rng.choice(self.managers) if decided else None, decided, changed, 1, at, changed))
        b.lines.extend(ln[:6] + (str(ln[6]), str(ln[7])) for ln in lines)  # money as text: SQLite and COPY

    def open_lead(self, b: Batch, n: int) -> None:
        rng = self.rng
        lead_id = self._next("lead")
        owner = rng.choice(self.sales)
        span = max(1, int((self.now - self.start).total_seconds()))
        created = self.now - dt.timedelta(seconds=rng.randrange(min(span, 90 * 86400)))
        source = _weighted(rng, SOURCES)
        plan_id = rng.choice(self.plans)[0] if self.plans and rng.random() < 0.4 else None
        interest = rng.choice(INTERESTS) if rng.random() < 0.7 else None
        status = rng.choices(("new", "contacted", "qualified", "disqualified"), weights=(35, 35, 18, 12))[0]
        last = created
        if status != "new":
            last = self._when(created, 1, 24 * 7)
            self._log(b, last, owner, lead=lead_id)
        mobile = f"19{(self.ids['lead'] * 7919 + n) % 10**9:09d}"
        b.leads.append((lead_id, rng.choice(NAMES) + "女士", mobile, None, None, source, plan_id, interest, None,
                        owner, status, "无效号码" if status == "disqualified" else None,
                        _score(source, bool(plan_id), bool(interest), last, self.now),
                        last if status != "new" else None, None, None, None, 1, created, last))


def _users(sink: Any, role: str) -> list[int]:
    # Through the seed's own connection: on SQLite a read on another connection blocks on the
    # seed's open write transaction ("database is locked").
    return [row[0] for row in sink.rows(
        "SELECT u.id FROM ab_user u JOIN ab_user_role ur ON ur.user_id = u.id "
        "JOIN ab_role r ON r.id = ur.role_id WHERE r.name = ? ORDER BY u.id", (role,))]


def _flush(sink: Any, b: Batch) -> None:
    sink.load("lead", LEAD_COLS, b.leads)
    sink.load("opportunity", OPP_COLS, b.opps)
    sink.load("opportunity_stage_change", CHANGE_COLS, b.changes)
    sink.load("contact_log", LOG_COLS, b.logs)
    sink.load("sales_order", ORDER_COLS, b.orders)
    sink.load("sales_order_line", LINE_COLS, b.lines)


def load(sink: Any, seed: int, cust_base: int, customers: int, months: int, today: dt.date,
         step: Callable[[str], None]) -> int:
    """Add the seeded customers' sales history; returns the number of opportunities."""
    total = round(customers * OPPORTUNITY_SHARE)
    if customers <= 0 or total <= 0:
        return 0
    now = dt.datetime.combine(today, dt.time(0, 0))
    start = now - dt.timedelta(days=round(months * 30.4))
    bases = {t: int(sink.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {t}")) for t in TABLES}  # noqa: S608
    plans = [(pid, Decimal(str(fee))) for pid, fee in sink.rows(
        "SELECT id, monthly_fee FROM plan WHERE active = TRUE ORDER BY id")]
    gen = Generator(seed, cust_base, customers, start, now, bases, plans, _users(sink, "Sales"),
                    _users(sink, "Manager"))
    batch = Batch()
    for _ in range(total):
        gen.opportunity(batch)
        if batch.size() >= BATCH:
            _flush(sink, batch)
            batch = Batch()
    for n in range(round(customers * OPEN_LEAD_SHARE)):
        gen.open_lead(batch, n)
        if batch.size() >= BATCH:
            _flush(sink, batch)
            batch = Batch()
    _flush(sink, batch)
    # Owners follow the customer's owner where it has one; a converted lead has the customer's mobile.
    for table in ("opportunity", "contact_log", "sales_order"):
        sink.execute(
            f"UPDATE {table} SET owner_id = (SELECT c.owner_id FROM customer c WHERE c.id = {table}.customer_id) "  # noqa: S608
            f"WHERE id > {bases[table]} AND customer_id IS NOT NULL AND EXISTS (SELECT 1 FROM customer c "
            f"WHERE c.id = {table}.customer_id AND c.owner_id IS NOT NULL)")
    sink.execute(
        "UPDATE lead SET mobile = (SELECT c.mobile FROM customer c WHERE c.id = lead.customer_id), "  # noqa: S608
        "owner_id = COALESCE((SELECT c.owner_id FROM customer c WHERE c.id = lead.customer_id), owner_id) "
        f"WHERE id > {bases['lead']} AND customer_id IS NOT NULL")
    sink.execute(
        "UPDATE contact_log SET owner_id = (SELECT l.owner_id FROM lead l WHERE l.id = contact_log.lead_id) "  # noqa: S608
        f"WHERE id > {bases['contact_log']} AND lead_id IS NOT NULL")
    sink.execute(
        "UPDATE opportunity_stage_change SET changed_by_id = (SELECT o.owner_id FROM opportunity o "  # noqa: S608
        f"WHERE o.id = opportunity_stage_change.opportunity_id) WHERE id > {bases['opportunity_stage_change']}")
    if sink.pg:
        from app.services.seed_sql import pg_reset_sequences

        pg_reset_sequences(sink, TABLES)
    step(f"sales: {total:,} opportunities, {gen.ids['lead'] - bases['lead']:,} leads")
    # The dashboard's daily summary: these rows went in around the ORM, so recompute it set-based.
    from app.services.sales_summary import rebuild_in_seed

    rebuild_in_seed(sink)
    step("sales daily summary")
    return total
