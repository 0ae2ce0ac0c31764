"""Demo catalogue (plans, value-added services) and demo users for `crm seed`.

Catalogue rows are upserted by code, so seeding twice reuses them. Names are demo data (stored
in the database like any operator-entered plan), not user-interface strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app.extensions import appbuilder, db
from app.models.plan import Plan
from app.models.vas import ValueAddedService
from app.services import setup

GB = 1024

# code, name, type, monthly fee, voice minutes, SMS, data MB, voice rate/min, data rate/GB,
# contract months, share of new lines (weights), segment bias (0 low … 3 high).
PLAN_CATALOGUE = (
    ("M19", "畅享19元基础套餐", "mobile", "19.00", 100, 50, 5 * GB, "0.19", "5.00", None, 9, 0),
    ("M39", "畅享39元套餐", "mobile", "39.00", 200, 100, 20 * GB, "0.15", "5.00", None, 16, 1),
    ("M59", "畅享59元套餐", "mobile", "59.00", 300, 100, 30 * GB, "0.15", "5.00", None, 18, 1),
    ("M89", "5G畅享89元套餐", "mobile", "89.00", 500, 100, 60 * GB, "0.15", "3.00", None, 12, 2),
    ("M129", "5G畅享129元套餐", "mobile", "129.00", 800, 200, 100 * GB, "0.12", "3.00", None, 7, 2),
    ("M199", "5G尊享199元套餐", "mobile", "199.00", 1500, 300, 200 * GB, "0.10", "3.00", 12, 3, 3),
    ("M299", "5G尊享299元合约套餐", "mobile", "299.00", 2000, 500, 300 * GB, "0.10", "3.00", 24, 2, 3),
    ("M399", "5G至尊399元合约套餐", "mobile", "399.00", 3000, 500, 300 * GB, "0.10", "3.00", 24, 1, 3),
    ("B59", "百兆宽带59元", "broadband", "59.00", 0, 0, 0, "0.00", "0.00", 12, 3, 1),
    ("B89", "300M宽带89元", "broadband", "89.00", 0, 0, 0, "0.00", "0.00", 12, 3, 1),
    ("B129", "千兆宽带129元", "broadband", "129.00", 0, 0, 0, "0.00", "0.00", 24, 2, 2),
    ("F129", "融合129元（手机+300M宽带+IPTV）", "fusion", "129.00", 500, 100, 40 * GB, "0.15", "3.00", 12, 6, 2),
    ("F169", "融合169元（手机+千兆宽带+IPTV）", "fusion", "169.00", 800, 200, 80 * GB, "0.12", "3.00", 24, 4, 2),
    ("F239", "融合239元家庭套餐", "fusion", "239.00", 1500, 300, 150 * GB, "0.10", "3.00", 24, 2, 3),
)

# code, name, monthly fee, take-up weight
VAS_CATALOGUE = (
    ("CALLER_ID", "来电显示", "5.00", 40),
    ("RBT", "彩铃", "5.00", 20),
    ("VIDEO_VIP", "视频会员（月度）", "15.00", 12),
    ("MUSIC_VIP", "音乐会员（月度）", "10.00", 8),
    ("DATA_10G", "流量包10GB", "20.00", 10),
    ("DATA_30G", "流量包30GB", "40.00", 5),
    ("MISSED_CALL", "漏话提醒", "3.00", 5),
)

DEMO_USERS = (
    ("admin", "Admin", None),
    ("manager", "Manager", None),
    ("sales1", "Sales", "sales"),
    ("sales2", "Sales", "sales"),
    ("agent1", "Agent", "customer-service"),
    ("agent2", "Agent", "technical"),
    ("clerk1", "Clerk", None),
)


@dataclass(frozen=True)
class PlanInfo:
    id: int
    code: str
    name: str
    plan_type: str
    fee_c: int
    voice: int
    data_mb: int
    voice_rate_c: int  # cents per minute
    data_rate_c: int  # cents per started GB
    contract_months: int | None
    weight: int
    bias: int


@dataclass(frozen=True)
class VasInfo:
    id: int
    code: str
    name: str
    fee_c: int
    weight: int


def _cents(value: Decimal | str) -> int:
    return int((Decimal(value) * 100).to_integral_value())


def ensure_catalogue() -> tuple[list[PlanInfo], list[VasInfo]]:
    """Create missing catalogue rows (by code) and return both catalogues in a fixed order."""
    existing = {p.code: p for p in db.session.execute(select(Plan)).scalars()}
    for code, name, kind, fee, voice, sms, data_mb, vrate, drate, months, _w, _b in PLAN_CATALOGUE:
        if code not in existing:
            existing[code] = Plan(
                code=code, name=name, plan_type=kind, monthly_fee=Decimal(fee), voice_minutes=voice,
                sms_count=sms, data_mb=data_mb, voice_overage_rate=Decimal(vrate),
                data_overage_rate=Decimal(drate), contract_months=months, active=True,
            )
            db.session.add(existing[code])
    vas_existing = {v.code: v for v in db.session.execute(select(ValueAddedService)).scalars()}
    for code, name, fee, _w in VAS_CATALOGUE:
        if code not in vas_existing:
            vas_existing[code] = ValueAddedService(code=code, name=name, monthly_fee=Decimal(fee), active=True)
            db.session.add(vas_existing[code])
    db.session.commit()
    plans = []
    for code, _n, _k, _f, _v, _s, _d, _vr, _dr, _m, weight, bias in PLAN_CATALOGUE:
        p = existing[code]
        plans.append(PlanInfo(
            id=p.id, code=p.code, name=p.name, plan_type=p.plan_type, fee_c=_cents(p.monthly_fee),
            voice=p.voice_minutes, data_mb=p.data_mb, voice_rate_c=_cents(p.voice_overage_rate),
            data_rate_c=_cents(p.data_overage_rate), contract_months=p.contract_months,
            weight=weight, bias=bias,
        ))
    vas = []
    for code, _n, _f, weight in VAS_CATALOGUE:
        v = vas_existing[code]
        vas.append(VasInfo(id=v.id, code=v.code, name=v.name, fee_c=_cents(v.monthly_fee), weight=weight))
    return plans, vas


def ensure_demo_users(password: str, keep_admin_password: bool = False) -> list[str]:
    """Create the contract's demo users, or reset the password of those that exist.

    `keep_admin_password` leaves an existing `admin` alone: `make run` prints the password that
    `crm init` gave it (or CRM_ADMIN_PASSWORD), and that one must keep working."""
    done = []
    for username, role, department in DEMO_USERS:
        exists = appbuilder.sm.find_user(username=username) is not None
        if exists and keep_admin_password and username == "admin":
            done.append(f"{username} (password kept)")
            continue
        if not exists:
            setup.create_user(username, password, role, department=department)
            done.append(f"{username} (created)")
        else:
            setup.set_password(username, password)
            done.append(f"{username} (password reset)")
    return done


def user_ids_with_role(role: str) -> list[int]:
    """Ids of the users holding `role`, sorted (the seed spreads owners over them)."""
    role_obj = appbuilder.sm.find_role(role)
    if role_obj is None:
        return []
    user_model = appbuilder.sm.user_model
    rows = db.session.execute(
        select(user_model.id).where(user_model.roles.contains(role_obj)).order_by(user_model.id)
    ).scalars()
    return list(rows)
