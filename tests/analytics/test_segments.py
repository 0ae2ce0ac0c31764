"""Value segmentation on hand-made customers: each lands in the segment its bills, payments, usage
and tenure call for; the at-risk flag, configurable thresholds, snapshots and month-over-month
movement."""

from __future__ import annotations

import datetime as dt

import pytest

from app.extensions import db
from app.models.customer import Customer
from app.services import segments

TODAY = dt.date(2026, 3, 15)
NOW = dt.datetime(2026, 3, 14, 20, 0)  # 04:00 on the 15th in Asia/Shanghai


def fresh(cust: Customer) -> Customer:
    db.session.expire_all()
    return db.session.get(Customer, cust.id)


@pytest.fixture
def people(build):  # noqa: ANN001, ANN201
    """Four customers, one per segment, plus a closed one."""
    out = {}
    # Years with us, ¥300 a month, always paid, used last month: top marks.
    c, s = build.customer(dt.date(2020, 5, 1), fee="299.00")
    build.months(c, s, dt.date(2025, 9, 1), dt.date(2026, 2, 1), 300)
    out["high"] = c
    # Two years' tenure, ¥40 a month, paid, active: 8 + 11.25 + 15 + 20 → 54 → ordinary.
    c, s = build.customer(dt.date(2023, 11, 1), fee="39.00")
    build.months(c, s, dt.date(2025, 9, 1), dt.date(2026, 2, 1), 40)
    out["ordinary"] = c
    # Three months old, already ¥120 a month: score 24 + 0 + 15 + 20 = 59 (ordinary by score),
    # but a young customer spending ≥ ¥100 is "potential".
    c, s = build.customer(dt.date(2025, 12, 1), fee="129.00")
    build.months(c, s, dt.date(2025, 12, 1), dt.date(2026, 2, 1), 120)
    out["potential"] = c
    # ¥20 a month, the last three bills unpaid, nothing used since November: low value, at risk.
    c, s = build.customer(dt.date(2024, 1, 1), fee="19.00")
    build.months(c, s, dt.date(2025, 9, 1), dt.date(2025, 11, 1), 20)
    build.months(c, s, dt.date(2025, 12, 1), dt.date(2026, 2, 1), 20, data_mb=0, voice=0, paid=False)
    out["low"] = c
    c, s = build.customer(dt.date(2020, 1, 1), fee="299.00", segment="ordinary")
    build.months(c, s, dt.date(2025, 9, 1), dt.date(2026, 2, 1), 300)
    build.close(c, s, dt.date(2026, 3, 1))
    out["closed"] = c
    return out


def test_each_customer_gets_the_expected_segment(people):  # noqa: ANN001
    result = segments.recompute(NOW, today=TODAY)
    assert result.customers == 4  # the closed customer is left alone
    assert result.month == dt.date(2026, 3, 1)
    got = {k: fresh(c) for k, c in people.items()}
    assert got["high"].segment == "high_value" and got["high"].value_score == 100
    assert got["ordinary"].segment == "ordinary" and got["ordinary"].value_score == 54
    assert got["potential"].segment == "potential" and got["potential"].value_score == 59
    assert got["low"].segment == "low_value"
    assert got["low"].value_score < 45
    assert [k for k, c in got.items() if c.at_risk] == ["low"]
    assert got["high"].segment_computed_at == NOW
    assert got["closed"].segment == "ordinary" and got["closed"].segment_computed_at is None


def test_a_sharp_drop_in_usage_flags_at_risk(build):  # noqa: ANN001
    c, s = build.customer(dt.date(2020, 5, 1), fee="299.00")
    build.months(c, s, dt.date(2025, 9, 1), dt.date(2026, 2, 1), 300, data_mb=20480)
    segments.recompute(NOW, today=TODAY)
    assert fresh(c).at_risk is False
    build.usage(c, s, dt.date(2026, 2, 1), data_mb=1024, voice=20)  # a twentieth of the months before
    segments.recompute(NOW, today=TODAY)
    c = fresh(c)
    assert c.at_risk is True
    assert c.segment == "high_value"  # still valuable: at risk is a flag, not a segment


def test_thresholds_come_from_the_configuration(app, people):  # noqa: ANN001
    app.config["CRM_SEGMENT_SETTINGS"] = {"high_value": 101, "ordinary": 60}
    try:
        segments.recompute(NOW, today=TODAY)
    finally:
        app.config.pop("CRM_SEGMENT_SETTINGS")
    assert fresh(people["high"]).segment == "potential"  # 100 < 101
    assert fresh(people["ordinary"]).segment == "low_value"  # 54 < 60


def test_monthly_snapshots_give_distribution_and_movement(build, people):  # noqa: ANN001
    feb = dt.date(2026, 2, 15)
    segments.recompute(dt.datetime(2026, 2, 14, 20), today=feb)
    feb_dist = segments.distribution(dt.date(2026, 2, 1))
    # Then the ordinary customer starts spending ¥300 a month: high value in March.
    from sqlalchemy import update

    from app.models.bill import Bill

    db.session.execute(update(Bill).where(Bill.customer_id == people["ordinary"].id, Bill.month >= dt.date(2025, 12, 1))
                       .values(total=300, base_fee=300, paid_amount=300))
    db.session.commit()
    segments.recompute(NOW, today=TODAY)
    segments.recompute(NOW, today=TODAY)  # a rerun replaces the month's snapshot, no duplicates
    march = segments.distribution(dt.date(2026, 3, 1))
    assert march == {"high_value": {"customers": 2, "at_risk": 0}, "potential": {"customers": 1, "at_risk": 0},
                     "ordinary": {"customers": 0, "at_risk": 0}, "low_value": {"customers": 1, "at_risk": 1}}
    assert feb_dist["ordinary"]["customers"] == 1
    assert sum(v["customers"] for v in feb_dist.values()) == 4
    assert segments.distribution() == march  # current values on the customers equal the snapshot
    moves = segments.movement(dt.date(2026, 3, 1))
    assert sum(moves.values()) == 4
    assert segments.snapshot_months() == [dt.date(2026, 3, 1), dt.date(2026, 2, 1)]
    # Movement pairs agree with the two snapshots customer by customer.
    from sqlalchemy import select

    from app.models.analytics import SegmentSnapshot

    rows = db.session.execute(select(SegmentSnapshot.customer_id, SegmentSnapshot.month, SegmentSnapshot.segment)
                              ).all()
    by = {}
    for cid, month, seg in rows:
        by.setdefault(cid, {})[str(month)[:7]] = seg
    expected: dict[tuple, int] = {}
    for v in by.values():
        key = (v.get("2026-02"), v["2026-03"])
        expected[key] = expected.get(key, 0) + 1
    assert moves == expected
    assert moves[("ordinary", "high_value")] == 1
    assert moves[("high_value", "high_value")] == 1


def test_the_nightly_job_runs_the_recompute(people):  # noqa: ANN001
    from app.services import jobs

    run = jobs.execute("segments_nightly", trigger="manual", now=NOW)
    assert run.status == "success", run.error
    assert fresh(people["high"]).segment == "high_value"
