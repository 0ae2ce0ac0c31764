"""Row generation for `crm seed`: customers, lines, VAS and business changes, in batches.

Everything comes from one `random.Random(seed)` stream consumed in customer order, so the same
seed gives the same names, resident IDs, mobiles and per-line traits. Faker is only used to fill
small pools (surnames, given names, streets) once; rows combine pool entries, which is what makes
a million customers affordable. The monthly facts (usage, bills, payments) are derived from the
per-line traits in SQL (`seed_sql`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import phonenumbers
from faker import Faker
from stdnum.cn import ric

from app.services.crypto import FieldCipher
from app.services.identity import REGIONS
from app.services.masking import mask_id_number
from app.services.seed_catalog import PlanInfo, VasInfo
from app.services.validation import mobile_carrier

CUSTOMER_COLS = (
    "id", "name", "gender", "birth_date", "id_number_enc", "id_number_bidx", "id_number_masked",
    "mobile", "carrier", "landline", "email", "address", "city", "segment", "status", "owner_id",
    "department_id", "plan_id", "consent_marketing", "consent_analytics", "version", "created_at",
    "updated_at",
)
SUBSCRIPTION_COLS = (
    "id", "customer_id", "plan_id", "number", "effective_date", "expiry_date", "status",
    "created_at", "updated_at",
)
SUB_VAS_COLS = ("subscription_id", "vas_id", "start_date", "end_date", "status", "created_at", "updated_at")
CHANGE_COLS = (
    "customer_id", "subscription_id", "change_type", "before", "after", "effective_date",
    "created_at", "operator_id", "reason",
)
# Per-line traits the SQL stage turns into monthly usage, bills and payments.
LINE_COLS = (
    "k", "sub_id", "customer_id", "has_usage", "start_idx", "end_idx", "change_idx", "plan_id",
    "old_plan_id", "fee_c", "old_fee_c", "voice_incl", "old_voice_incl", "data_incl", "old_data_incl",
    "vrate_c", "old_vrate_c", "drate_c", "old_drate_c", "voice_base", "sms_base", "data_base",
    "decline", "vas_c", "payer", "stop_idx", "partial_idx", "extra_plan_id", "extra_fee_c",
    "extra_start_idx", "vas_desc",
)
LINE_TEXT_COLS = ("vas_desc",)

CARRIER_WEIGHTS = (("cmcc", 58), ("cucc", 20), ("ctcc", 19), ("cbn", 1.5), ("mvno", 1.5))
SEGMENTS_BY_SCORE = ("low_value", "ordinary", "potential", "high_value")
AREA_CODES = {
    "北京": "010", "上海": "021", "广州": "020", "深圳": "0755", "杭州": "0571", "南京": "025",
    "成都": "028", "武汉": "027", "西安": "029", "重庆": "023", "天津": "022", "济南": "0531",
}
EMAIL_DOMAINS = ("163.com", "126.com", "qq.com", "sina.com", "foxmail.com", "139.com", "example.cn")
# Payment behaviour: on time, late, stops paying (arrears), pays one bill in part.
PAYER_ON_TIME, PAYER_LATE, PAYER_DEFAULTER, PAYER_PARTIAL = 0, 1, 2, 3
_SAMPLE_TAILS = ("0000000", "5555555", "9999999", "1234567", "8765432")
_prefix_cache: dict[str, list[str]] | None = None


def mobile_prefixes() -> dict[str, list[str]]:
    """4-digit number segments per carrier, each checked with phonenumbers and `mobile_carrier`."""
    global _prefix_cache
    if _prefix_cache is None:
        found: dict[str, list[str]] = {code: [] for code, _w in CARRIER_WEIGHTS}
        for p in range(1300, 2000):
            prefix = str(p)
            carriers = set()
            for tail in _SAMPLE_TAILS:
                if not phonenumbers.is_valid_number(phonenumbers.parse("+86" + prefix + tail)):
                    break
                carriers.add(mobile_carrier(prefix + tail))
            else:
                if len(carriers) == 1 and (carrier := carriers.pop()) in found:
                    found[carrier].append(prefix)
        _prefix_cache = found
    return _prefix_cache


def add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


@dataclass
class Pools:
    surnames: list[str]
    male: list[str]
    female: list[str]
    streets: list[str]
    districts: list[str]
    users: list[str]

    @classmethod
    def build(cls, seed: int) -> Pools:
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        return cls(
            surnames=[fake.last_name() for _ in range(600)],
            male=[fake.first_name_male() for _ in range(1500)],
            female=[fake.first_name_female() for _ in range(1500)],
            streets=[fake.street_name() for _ in range(800)],
            districts=[fake.district() for _ in range(120)],
            users=[fake.user_name() for _ in range(3000)],
        )


@dataclass
class Batch:
    customers: list[tuple] = field(default_factory=list)
    subscriptions: list[tuple] = field(default_factory=list)
    sub_vas: list[tuple] = field(default_factory=list)
    changes: list[tuple] = field(default_factory=list)
    lines: list[tuple] = field(default_factory=list)


@dataclass
class SeedContext:
    """Everything generation needs, fixed before the first row."""

    seed: int
    months: list[dt.date]  # first days of the billed months, oldest first
    today: dt.date
    plans: list[PlanInfo]
    vas: list[VasInfo]
    owners: list[int]
    cipher: FieldCipher
    cust_base: int
    sub_base: int
    taken_mobiles: set[str] = field(default_factory=set)
    taken_bidx: set[str] = field(default_factory=set)


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def fast_id_number(region: str, birth: dt.date, sequence: int, gender: str) -> str:
    """Same result as `identity.make_id_number` (tests check it), without stdnum's overhead."""
    order = (sequence % 500) * 2 + (1 if gender == "M" else 0)
    body = f"{region}{birth.year:04d}{birth.month:02d}{birth.day:02d}{order:03d}"
    total = sum(w * (ord(ch) - 48) for w, ch in zip(_ID_WEIGHTS, body, strict=True))
    return body + _ID_CHECK[total % 11]


class Generator:
    def __init__(self, ctx: SeedContext) -> None:
        self.p = ctx
        self.rng = random.Random(ctx.seed)
        self.pools = Pools.build(ctx.seed)
        prefixes = mobile_prefixes()
        self.carriers = [c for c, _w in CARRIER_WEIGHTS if prefixes[c]]
        self.carrier_cum = _cumulative([w for c, w in CARRIER_WEIGHTS if prefixes[c]])
        self.prefixes = {c: prefixes[c] for c in self.carriers}
        self.prefix_state = {pfx: [0, self.rng.randrange(10**7)] for c in self.carriers for pfx in prefixes[c]}
        self.mobile_plans = [p for p in ctx.plans if p.plan_type == "mobile"]
        self.main_plans = [p for p in ctx.plans if p.plan_type in ("mobile", "fusion", "broadband")]
        self.main_cum = _cumulative([p.weight for p in self.main_plans])
        self.broadband = [p for p in ctx.plans if p.plan_type == "broadband"]
        self.vas_cum = _cumulative([v.weight for v in ctx.vas])
        # A region code is valid only for people born while it existed (stdnum's table).
        self.regions_by_year = {
            year: [r for r in REGIONS if ric.is_valid(fast_id_number(r[0], dt.date(year, 6, 1), 1, "M"))]
            or [REGIONS[0]]
            for year in range(1950, 2006)
        }
        self.seen_ids: set[str] = set()
        self.sub_k = 0
        self.birth0 = dt.date(1950, 1, 1).toordinal()
        self.window_ord = ctx.months[0].toordinal()
        self.month_ords = [m.toordinal() for m in ctx.months]

    # -- identity -------------------------------------------------------------------------
    def _mobile(self) -> tuple[str, str]:
        r = self.rng.random
        carrier = self.carriers[_pick(self.carrier_cum, r())]
        choices = self.prefixes[carrier]
        while True:
            prefix = choices[int(r() * len(choices))]
            state = self.prefix_state[prefix]
            # A stride coprime with 10^7 walks every 7-digit tail once: unique within the run.
            tail = (state[0] * 7919 + state[1]) % 10**7
            state[0] += 1
            number = f"{prefix}{tail:07d}"
            if number not in self.p.taken_mobiles:
                return number, carrier

    def _id_number(self, region: str, birth: dt.date, gender: str) -> tuple[str, str]:
        r = self.rng.random
        while True:  # 500 order codes per region, day and sex: a free one turns up quickly
            number = fast_id_number(region, birth, int(r() * 500), gender)
            if number in self.seen_ids:
                continue
            bidx = self.p.cipher.blind_index(number)
            if bidx in self.p.taken_bidx:
                continue
            self.seen_ids.add(number)
            return number, bidx

    # -- one customer -------------------------------------------------------------------------
    def customer(self, k: int, out: Batch) -> None:  # noqa: PLR0915 - one realistic record, step by step
        p, pools = self.p, self.pools
        r = self.rng.random
        m_count = len(p.months)
        cid = p.cust_base + k + 1
        gender = "M" if r() < 0.51 else "F"
        birth = dt.date.fromordinal(self.birth0 + int(r() * 365 * 55))
        regions = self.regions_by_year[birth.year]
        region, city = regions[int(r() * len(regions))]
        id_number, bidx = self._id_number(region, birth, gender)
        given = pools.male if gender == "M" else pools.female
        name = pools.surnames[int(r() * len(pools.surnames))] + given[int(r() * len(given))]
        mobile, carrier = self._mobile()
        address = (f"{city}市{pools.districts[int(r() * len(pools.districts))]}区"
                   f"{pools.streets[int(r() * len(pools.streets))]}{1 + int(r() * 999)}号"
                   f"{1 + int(r() * 30)}栋{1 + int(r() * 6)}单元{101 + int(r() * 2700)}室")
        email = (f"{pools.users[int(r() * len(pools.users))]}{1 + int(r() * 999)}"
                 f"@{EMAIL_DOMAINS[int(r() * len(EMAIL_DOMAINS))]}" if r() < 0.35 else None)
        landline = (f"{AREA_CODES.get(city, '010')}-{2 + int(r() * 7)}{int(r() * 10**7):07d}"
                    if r() < 0.08 else None)

        # Tenure: most customers predate the billed window; some joined during it.
        if r() < 0.1 and m_count > 1:
            start_idx = int(r() * m_count)
            effective = dt.date.fromordinal(self.month_ords[start_idx] + int(r() * 27))
        else:
            start_idx = 0
            effective = dt.date.fromordinal(self.window_ord - 20 - int(r() * 8 * 365))
        created = dt.datetime(effective.year, effective.month, effective.day, 9 + int(r() * 10), int(r() * 60))

        plan = self.main_plans[_pick(self.main_cum, r())]
        score = max(0, min(3, plan.bias + (-1, 0, 0, 0, 1)[int(r() * 5)]))
        segment = SEGMENTS_BY_SCORE[score]
        owner = p.owners[int(r() * len(p.owners))] if p.owners and r() < 0.9 else None

        # Status and payment behaviour.
        x = r()
        status, end_idx, decline = "active", m_count - 1, 0
        payer, stop_idx, partial_idx = PAYER_ON_TIME, m_count, m_count
        if x < 0.035:
            status, payer, decline = "suspended", PAYER_DEFAULTER, 1
            stop_idx = max(start_idx, m_count - 3 - int(r() * 3))
        elif x < 0.05 and start_idx < m_count - 1:
            status, decline = "closed", 1
            end_idx = start_idx + int(r() * (m_count - 1 - start_idx))
        else:
            x = r()
            if x < 0.06:
                payer = PAYER_LATE
            elif x < 0.11:
                payer, decline = PAYER_DEFAULTER, int(r() < 0.5)
                stop_idx = max(start_idx, m_count - 2 - int(r() * 3))
            elif x < 0.14:
                payer, partial_idx = PAYER_PARTIAL, start_idx + int(r() * (m_count - start_idx))
        consent_marketing = r() < 0.6
        consent_analytics = r() < 0.72

        out.customers.append((
            cid, name, gender, birth, p.cipher.encrypt(id_number, b"customer.id_number"), bidx,
            mask_id_number(id_number), mobile, carrier, landline, email, address, city, segment, status,
            owner, None, plan.id, consent_marketing, consent_analytics, 1, created, created,
        ))
        sub_status = {"active": "active", "suspended": "suspended", "closed": "terminated"}[status]
        number = mobile if plan.plan_type != "broadband" else self._broadband_number()
        line = self._line(out, k, cid, plan, number, effective, created, start_idx, end_idx, sub_status,
                          owner, decline, payer, stop_idx, partial_idx)
        # Some mobile customers also have home broadband on a second line (on the same bill).
        extra_plan, extra_fee, extra_start = 0, 0, m_count
        if plan.plan_type == "mobile" and r() < 0.12:
            bb = self.broadband[int(r() * len(self.broadband))]
            bb_eff = dt.date.fromordinal(max(effective.toordinal(), self.window_ord - 20 - int(r() * 4 * 365)))
            extra_start = start_idx if bb_eff < p.months[0] else max(start_idx, _month_index(p.months, bb_eff))
            extra_plan, extra_fee = bb.id, bb.fee_c
            self._subscription(out, cid, bb, self._broadband_number(), bb_eff,
                               dt.datetime(bb_eff.year, bb_eff.month, bb_eff.day, 10, 30), sub_status, owner)
        out.lines.append(line + (extra_plan, extra_fee, extra_start, self.vas_desc()))
        if status == "suspended":
            day = min(add_months(p.months[stop_idx], 2).replace(day=20), p.today)
            out.changes.append((cid, self._last_sub_id, "suspend", '{"status": "active"}',
                                '{"status": "suspended"}', day, dt.datetime(day.year, day.month, day.day, 2),
                                None, "欠费停机"))

    def _broadband_number(self) -> str:
        return f"KD{int(self.rng.random() * 10**10):010d}"

    def _subscription(self, out: Batch, cid: int, plan: PlanInfo, number: str, effective: dt.date,
                      created: dt.datetime, sub_status: str, owner: int | None) -> int:
        p, r = self.p, self.rng.random
        line_k = self.sub_k
        self.sub_k += 1
        sub_id = p.sub_base + line_k + 1
        self._last_sub_id = sub_id
        expiry = None
        if plan.contract_months:
            expiry = add_months(effective, plan.contract_months)
            while expiry < p.today - dt.timedelta(days=60):
                expiry = add_months(expiry, plan.contract_months)
        out.subscriptions.append((sub_id, cid, plan.id, number, effective, expiry, sub_status, created, created))
        out.changes.append((cid, sub_id, "open", None, f'{{"plan": "{plan.code}", "number": "{number}"}}',
                            effective, created, owner, None))
        if sub_status == "terminated":
            last = self._end_idx
            day = min(add_months(p.months[last], 1) + dt.timedelta(days=int(r() * 20)), p.today)
            out.changes.append((cid, sub_id, "close", '{"status": "active"}', '{"status": "terminated"}', day,
                                dt.datetime(day.year, day.month, day.day, 11), owner, "客户申请销户"))
        return sub_id

    def _line(self, out: Batch, cust_k: int, cid: int, plan: PlanInfo, number: str, effective: dt.date,
              created: dt.datetime, start_idx: int, end_idx: int, sub_status: str, owner: int | None,
              decline: int, payer: int, stop_idx: int, partial_idx: int) -> tuple:
        p, r = self.p, self.rng.random
        m_count = len(p.months)
        self._end_idx = end_idx
        sub_id = self._subscription(out, cid, plan, number, effective, created, sub_status, owner)
        # A plan change during the window: bills before it use the old plan.
        old, change_idx = plan, 0
        if plan.plan_type == "mobile" and start_idx < m_count - 1 and r() < 0.08:
            candidate = self.mobile_plans[int(r() * len(self.mobile_plans))]
            if candidate.id != plan.id:
                old = candidate
                change_idx = start_idx + 1 + int(r() * (m_count - 1 - start_idx))
                eff = p.months[change_idx]
                asked = eff - dt.timedelta(days=2 + int(r() * 24))
                out.changes.append((cid, sub_id, "plan_change", f'{{"plan": "{old.code}"}}',
                                    f'{{"plan": "{plan.code}"}}', eff,
                                    dt.datetime(asked.year, asked.month, asked.day, 14), owner, None))
        # Value-added services on lines with a phone number.
        vas_c = 0
        self._vas_names: list[str] = []
        if plan.plan_type != "broadband" and r() < 0.35:
            chosen: list[VasInfo] = []
            for _ in range(1 if r() < 0.75 else 2):
                v = p.vas[_pick(self.vas_cum, r())]
                if v not in chosen:
                    chosen.append(v)
            for v in chosen:
                vas_c += v.fee_c
                self._vas_names.append(v.name)
                out.sub_vas.append((sub_id, v.id, effective, None,
                                    "active" if sub_status != "terminated" else "terminated", created, created))
                out.changes.append((cid, sub_id, "vas_subscribe", None, f'{{"vas": "{v.code}"}}',
                                    effective, created, owner, None))
        # Usage profile relative to the allowance: light, normal or heavy (overage).
        has_usage = int(plan.plan_type != "broadband")
        voice_base = int(plan.voice * _profile(r)) if has_usage else 0
        data_base = int(plan.data_mb * _profile(r)) if has_usage else 0
        sms_base = int(r() * 60) if has_usage else 0
        return (
            cust_k, sub_id, cid, has_usage, start_idx, end_idx, change_idx, plan.id, old.id,
            plan.fee_c, old.fee_c, plan.voice, old.voice, plan.data_mb, old.data_mb,
            plan.voice_rate_c, old.voice_rate_c, plan.data_rate_c, old.data_rate_c,
            voice_base, sms_base, data_base, decline, vas_c, payer, stop_idx, partial_idx,
        )

    def vas_desc(self) -> str | None:
        return "、".join(self._vas_names) or None

    def batches(self, count: int, size: int) -> Iterator[Batch]:
        for start in range(0, count, size):
            batch = Batch()
            for k in range(start, min(count, start + size)):
                self.customer(k, batch)
            yield batch


def _profile(r: Callable[[], float]) -> float:
    x = r()
    if x < 0.2:
        return 0.05 + 0.25 * r()
    if x < 0.78:
        return 0.3 + 0.6 * r()
    return 0.95 + 0.55 * r()


def _cumulative(weights: list[float]) -> list[float]:
    total = float(sum(weights))
    acc, out = 0.0, []
    for w in weights:
        acc += w / total
        out.append(acc)
    out[-1] = 1.0
    return out


def _pick(cumulative: list[float], r: float) -> int:
    for i, edge in enumerate(cumulative):
        if r < edge:
            return i
    return len(cumulative) - 1


def _month_index(months: list[dt.date], day: dt.date) -> int:
    idx = 0
    for i, first in enumerate(months):
        if first <= day:
            idx = i
    return idx
