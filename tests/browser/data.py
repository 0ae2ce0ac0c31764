"""A customer with something to show on the 360 page: plan, line, 12 months of usage, bills, payments.

Customer, plan, line, plan change, status change and payments go through the services. The
foundation has no billing run yet, so monthly usage and bills are written as rows here, the way a
billing job would write them.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from app.extensions import db
from app.models.bill import Bill, BillLine
from app.models.business_change import BusinessChange
from app.models.usage import UsageRecord
from app.services import catalog, payments, subscriptions
from app.services.customer360 import months_back
from app.timefmt import business_today
from tests.factories import make_customer


def make_plan(actor: Any, code: str, name: str, fee: str, data_mb: int) -> Any:
    return catalog.create_plan({
        "code": code, "name": name, "plan_type": "mobile", "monthly_fee": fee, "voice_minutes": 500,
        "sms_count": 100, "data_mb": data_mb, "voice_overage_rate": "0.15", "data_overage_rate": "5.00",
        "active": True,
    }, actor)


def make_rich_customer(actor: Any, *, mobile: str = "13912345678", months: int = 12, seed: int = 7,
                       today: dt.date | None = None, **overrides: Any) -> Any:
    """Create the customer and their history; return the customer."""
    rng = random.Random(seed)
    today = today or business_today()
    suffix = mobile[-4:]
    basic = make_plan(actor, f"M59-{suffix}", "畅享59元套餐", "59.00", 20480)
    better = make_plan(actor, f"M129-{suffix}", "畅享129元5G套餐", "129.00", 61440)
    fields = {"name": "王晓明", "mobile": mobile, "city": "北京", "address": "北京市朝阳区建国路88号",
              "email": "wangxm@example.cn", "landline": "010-65881234", "segment": "high_value",
              "consent_marketing": True}
    fields.update(overrides)
    customer = make_customer(actor, **fields)
    month_list = months_back(today, months)
    line = subscriptions.open_line({
        "customer_id": customer.id, "plan_id": basic.id, "number": mobile,
        "effective_date": month_list[0].isoformat(),
    }, actor)
    subscriptions.change_plan(line.id, better.id, actor, reason="客户来电要求升级5G套餐",
                              today=month_list[len(month_list) // 2])

    bills = []
    for i, month in enumerate(month_list):
        plan_fee = Decimal("59.00") if i <= len(month_list) // 2 else Decimal("129.00")
        voice = rng.randint(180, 620)
        data_mb = rng.randint(9_000, 70_000)
        db.session.add(UsageRecord(customer_id=customer.id, subscription_id=line.id, month=month,
                                   voice_minutes=voice, sms_count=rng.randint(5, 90), data_mb=data_mb))
        voice_over = (Decimal(max(voice - 500, 0)) * Decimal("0.15")).quantize(Decimal("0.01"))
        total = plan_fee + voice_over
        due = (month + dt.timedelta(days=45)).replace(day=15)
        bill = Bill(customer_id=customer.id, month=month, base_fee=plan_fee, voice_overage=voice_over,
                    total=total, paid_amount=Decimal("0"), due_date=due, status="unpaid")
        db.session.add(bill)
        db.session.flush()
        db.session.add(BillLine(bill_id=bill.id, item_type="base", description="套餐月费", amount=plan_fee))
        if voice_over:
            db.session.add(BillLine(bill_id=bill.id, item_type="voice_overage", description="语音超出",
                                    amount=voice_over))
        bills.append(bill)
    db.session.commit()
    # Everything paid except the last two months: one partly, one not yet (arrears on the 360 page).
    for bill in bills[:-2]:
        payments.record({"customer_id": customer.id, "bill_id": bill.id, "amount": str(bill.total),
                         "method": rng.choice(["wechat", "alipay", "cash"])}, actor)
    payments.record({"customer_id": customer.id, "bill_id": bills[-2].id, "amount": "30.00",
                     "method": "wechat"}, actor)
    # The services stamp "now"; spread the history over the year as it would have happened.
    for bill in bills[:-1]:
        for payment in bill.payments:
            day = bill.due_date - dt.timedelta(days=rng.randint(3, 25))
            payment.paid_at = dt.datetime.combine(day, dt.time(rng.randint(8, 20), rng.randint(0, 59)))
    for change in db.session.query(BusinessChange).filter_by(customer_id=customer.id):
        lead = dt.timedelta(days=12 if change.change_type == "plan_change" else 0)
        change.created_at = dt.datetime.combine(change.effective_date - lead, dt.time(10, 12))
    db.session.commit()
    return customer
