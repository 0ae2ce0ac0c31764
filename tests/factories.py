"""Small builders for test data, going through the same services as the app."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from app.services.identity import make_id_number

_seq = itertools.count(1)


def customer_data(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    data = {
        "name": f"测试客户{n}",
        "id_number": make_id_number("110105", dt.date(1980, 1, 1) + dt.timedelta(days=n), n, "M"),
        "mobile": f"138{n:08d}",
        "city": "北京",
        "address": f"北京市朝阳区测试路{n}号",
    }
    data.update(overrides)
    return data


def make_customer(actor: Any, **overrides: Any) -> Any:
    from app.services import customers

    return customers.create(customer_data(**overrides), actor)


def make_plan(actor: Any, **overrides: Any) -> Any:
    from app.services import catalog

    n = next(_seq)
    data = {"code": f"P{n}", "name": f"畅享套餐{n}", "plan_type": "mobile", "monthly_fee": "59.00",
            "voice_minutes": 300, "sms_count": 100, "data_mb": 20480,
            "voice_overage_rate": "0.15", "data_overage_rate": "5.00", "active": True}
    data.update(overrides)
    return catalog.create_plan(data, actor)
