"""Personalised templates: facts of the customer, salutation by gender, language, graceful fallbacks."""

from __future__ import annotations

import datetime as dt

import pytest

from app.extensions import db
from app.models.message import MessageTemplate
from app.services import templates
from app.services.errors import Invalid
from tests.factories import make_customer
from tests.messaging.conftest import give_line, overdue_bill, plan, template, usage

TODAY = dt.date(2026, 3, 15)
EVERYTHING = " | ".join("{{ %s }}" % k for k in templates.CUSTOMER_KEYS)  # noqa: UP031


def _render(body: str, customer, language: str = "zh", channel: str = "sms", context=None) -> str:  # noqa: ANN001
    t = MessageTemplate(code="x", language=language, name="x", purpose="service", channels="sms", body=body)
    return templates.render(t, customer, context or {}, channel, TODAY).body


def _rich_customer(actor):  # noqa: ANN001, ANN202
    c = make_customer(actor("clerk1"), name="李娜")
    c.gender = "F"
    small = plan("S20", 20, "59.00", name="畅享20G")
    plan("M30", 30, "79.00", name="畅享30G")
    plan("L50", 50, "99.00", name="畅享50G")
    line = give_line(c, small, dt.date(2025, 1, 1), expiry=dt.date(2026, 4, 30))
    usage(c, line, dt.date(2026, 2, 1), 25 * 1024)  # last month: 25 GB of 20
    usage(c, line, dt.date(2026, 1, 1), 2 * 1024)  # older months do not count
    overdue_bill(c, dt.date(2026, 2, 13), "88.50")
    return c


def test_facts_fill_a_chinese_message(ctx, actor):  # noqa: ANN001
    c = _rich_customer(actor)
    text = _render(EVERYTHING, c)
    parts = text.split(" | ")
    facts = dict(zip(templates.CUSTOMER_KEYS, parts, strict=True))
    assert facts["customer_name"] == "李娜"
    assert facts["salutation"] == "李女士"
    assert facts["mobile_tail"] == c.mobile[-4:]
    assert facts["plan_name"] == "畅享20G" and facts["monthly_fee"] == "59.00"
    assert facts["expiry_date"] == "2026-04-30"
    assert facts["data_used"] == "25.0 GB" and facts["data_allowance"] == "20.0 GB"
    assert facts["data_usage_pct"] == "125%"
    assert facts["arrears_amount"] == "88.50" and facts["arrears_days"] == "30"
    assert facts["suggested_plan"] == "畅享30G"  # cheapest plan that covers last month's use


def test_english_salutation_and_male_title(ctx, actor):  # noqa: ANN001
    c = _rich_customer(actor)
    assert _render("{{ salutation }}", c, language="en") == "Ms 李娜"
    c.gender = "M"
    assert _render("{{ salutation }}", c) == "李先生"
    assert _render("{{ salutation }}", c, language="en") == "Mr 李娜"


def test_low_use_suggests_a_cheaper_plan(ctx, actor):  # noqa: ANN001
    c = make_customer(actor("clerk1"))
    big = plan("B100", 100, "199.00", name="尊享100G")
    plan("C10", 10, "39.00", name="轻享10G")
    plan("C5", 5, "29.00", name="轻享5G")  # too small for 6 GB (+20%)
    line = give_line(c, big, dt.date(2025, 1, 1))
    usage(c, line, dt.date(2026, 2, 1), 6 * 1024)
    assert _render("{{ suggested_plan }}", c) == "轻享10G"


def test_missing_data_degrades_gracefully(ctx, actor):  # noqa: ANN001
    c = make_customer(actor("clerk1"))
    c.gender = None  # no plan, no line, no usage, no bills, gender unknown
    zh = _render(EVERYTHING, c)
    assert "{{" not in zh and "None" not in zh
    facts = dict(zip(templates.CUSTOMER_KEYS, zh.split(" | "), strict=True))
    assert facts["salutation"] == c.name  # no title without a gender
    assert facts["plan_name"] == "您的套餐" and facts["data_used"] == "（暂无记录）"
    assert facts["arrears_amount"] == "0.00" and facts["suggested_plan"] == "您当前的套餐"
    en = _render("{{ salutation }}, {{ plan_name }} expires {{ expiry_date }}.", c, language="en")
    assert en == f"{c.name}, your plan expires (no expiry date)."
    # No customer at all (e.g. a message to a typed-in address): neutral wording, no crash.
    assert _render("{{ salutation }}，{{ ticket_no }}", None, context={"ticket_no": "T-1"}) == "尊敬的客户，T-1"


def test_every_shipped_template_renders_without_data(ctx, actor):  # noqa: ANN001
    c = make_customer(actor("clerk1"))
    for t in db.session.query(MessageTemplate).all():
        for channel in t.channel_list:
            r = templates.render(t, c, {}, channel, TODAY)
            assert r.body and "{{" not in r.body and "None" not in r.body, (t.code, t.language)


def test_the_customers_language_with_fallback_to_chinese(ctx, app, actor, monkeypatch):  # noqa: ANN001
    assert templates.find("ticket_ack", "en").language == "en"
    db.session.delete(template("ticket_ack", "en"))
    db.session.commit()
    assert templates.find("ticket_ack", "en").language == "zh"
    monkeypatch.setitem(app.config, "CRM_MESSAGE_LANGUAGE", "en")
    assert templates.customer_language(None) == "en"


def test_unknown_placeholders_and_duplicates_are_refused(ctx, actor):  # noqa: ANN001
    manager = actor("manager")
    with pytest.raises(Invalid) as exc:
        templates.create({"code": "promo", "language": "zh", "name": "Promo", "purpose": "marketing",
                          "channels": "sms", "body": "{{ salutation }}，{{ favourite_colour }}"}, manager)
    assert "body" in exc.value.errors and "favourite_colour" in exc.value.errors["body"][0]
    with pytest.raises(Invalid) as exc:
        templates.create({"code": "ticket_ack", "language": "zh", "name": "Again", "purpose": "service",
                          "channels": "sms", "body": "x"}, manager)
    assert "code" in exc.value.errors
    created = templates.create({"code": "promo", "language": "en", "name": "Promo", "purpose": "marketing",
                                "channels": "sms,email", "body": "{{ salutation }}: {{ offer }}"}, manager)
    assert created.enabled is False  # new templates start disabled: preview, then enable


def test_preview_renders_for_a_real_customer(ctx, actor):  # noqa: ANN001
    c = _rich_customer(actor)
    t = template("revisit_ordinary", "zh")
    result = templates.preview(t.id, c.mobile, TODAY)
    assert result["customer"].id == c.id
    body = result["channels"]["sms"].body
    assert "李女士" in body and "25.0 GB" in body and "畅享30G" in body and "TD" in body
    assert templates.preview(t.id, str(c.id), TODAY)["customer"].id == c.id
    with pytest.raises(Invalid):
        templates.preview(t.id, "13999999999", TODAY)
