"""The sales dashboard reads a daily summary; its figures must stay equal to direct SQL over the live
opportunities and leads: on seeded data, after moves today, after back-dated changes across the
operator's midnight, after reassignments, conversions and rollbacks, and after a rebuild."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import DateTime, bindparam, select, text

from app.extensions import db
from app.models.opportunity import Opportunity
from app.models.sales_summary import SalesDaily
from app.services import jobs, leads, opportunities, sales, sales_dashboard, sales_summary, seed
from app.services.care_kinds import local_day_start_utc
from app.services.errors import Forbidden
from app.services.sales_dashboard import Filters
from app.timefmt import to_local
from tests.conftest import actor_for
from tests.sales.conftest import an_id_number, make_lead

TODAY = dt.date(2026, 6, 15)


def seeded() -> None:
    seed.run(200, months=6, random_seed=5, today=TODAY)


def _dt(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def live(f: Filters) -> dict[str, Any]:
    """The dashboard's figures straight from the live tables (the definitions, in plain SQL)."""
    own = " AND owner_id = :o" if f.owner_id is not None else ""
    params = {"a": local_day_start_utc(f.start), "b": local_day_start_utc(f.end + dt.timedelta(days=1)),
              "o": f.owner_id}

    def q(sql: str) -> list[tuple]:
        stmt = text(sql).bindparams(bindparam("a", type_=DateTime), bindparam("b", type_=DateTime))
        return [tuple(r) for r in db.session.execute(stmt, {k: v for k, v in params.items() if f":{k}" in sql})]

    # `own` is a fixed clause; every value is a bound parameter.
    created = q(f"SELECT reached_rank, count(*) FROM opportunity WHERE created_at >= :a AND created_at < :b{own} "  # noqa: S608
                "GROUP BY reached_rank")
    funnel = [sum(int(n) for r, n in created if r >= rank) for rank in range(4)]
    months: dict[str, list] = defaultdict(lambda: [0, Decimal("0.00")])
    people: dict[Any, list] = defaultdict(lambda: [0, Decimal("0.00"), 0])
    for closed_at, revenue, owner in q("SELECT closed_at, expected_revenue, owner_id FROM opportunity WHERE "  # noqa: S608
                                       f"stage = 'won' AND closed_at >= :a AND closed_at < :b{own}"):
        for cell in (months[to_local(_dt(closed_at)).strftime("%Y-%m")], people[owner]):
            cell[0] += 1
            cell[1] += _money(revenue)
    for owner, n in q("SELECT owner_id, count(*) FROM lead WHERE created_customer = TRUE AND converted_at >= :a "  # noqa: S608
                      f"AND converted_at < :b{own} GROUP BY owner_id"):
        people[owner][2] = int(n)
    lost = dict(q(f"SELECT lost_reason, count(*) FROM opportunity WHERE stage = 'lost' AND closed_at >= :a "  # noqa: S608
                  f"AND closed_at < :b{own} GROUP BY lost_reason"))
    return {"funnel": funnel, "months": {m: tuple(v) for m, v in months.items()},
            "people": {o: tuple(v) for o, v in people.items()}, "lost": lost}


def shown(f: Filters) -> dict[str, Any]:
    """The same figures as the dashboard service gives them."""
    manager = actor_for("manager")
    return {
        "funnel": [r["count"] for r in sales_dashboard.funnel(f, manager)],
        "months": {r["month"]: (r["deals"], r["revenue"]) for r in sales_dashboard.revenue_by_month(f, manager)},
        "people": {r["owner_id"]: (r["deals"], r["revenue"], r["new_customers"])
                   for r in sales_dashboard.by_salesperson(f, manager)},
        "lost": {r["reason"]: r["count"] for r in sales_dashboard.lost_reasons(f, manager, top=1000)},
    }


def owners() -> list[int]:
    return [actor_for("sales1").id, actor_for("sales2").id]


def assert_exact(*periods: tuple[dt.date, dt.date]) -> None:
    for start, end in periods:
        for owner in (None, *owners()):
            f = Filters(start, end, owner)
            assert shown(f) == live(f), f


WHOLE = (dt.date(2025, 1, 1), TODAY + dt.timedelta(days=400))


def summary_rows() -> dict[tuple, tuple]:
    return {(r.metric, r.day, r.owner_key, r.reached_rank, r.lost_reason): (r.n, _money(r.revenue))
            for r in db.session.execute(select(SalesDaily)).scalars()}


def an_open_opportunity() -> Opportunity:
    return db.session.execute(select(Opportunity).where(Opportunity.stage == "intent")
                              .order_by(Opportunity.id).limit(1)).scalar_one()


def test_seeded_figures_equal_direct_sql(ctx):
    seeded()
    assert db.session.execute(select(SalesDaily.day).limit(1)).first() is not None, "the seed fills the summary"
    assert live(Filters(*WHOLE, None))["funnel"][0] == 40  # the seed's 20 % of 200 customers
    assert_exact(WHOLE, (dt.date(2026, 3, 10), dt.date(2026, 4, 20)), (dt.date(2026, 5, 1), dt.date(2026, 5, 1)))


def test_a_move_today_updates_the_creation_day_and_today(ctx):
    seeded()
    manager = actor_for("manager")
    opp = an_open_opportunity()
    created = to_local(opp.created_at).date()
    day = Filters(created, created, None)
    before = shown(day)["funnel"]
    opportunities.move(opp.id, "negotiation", manager)
    opportunities.move(opp.id, "won", manager)
    after = shown(day)["funnel"]
    assert after[2:] == [before[2] + 1, before[3] + 1]  # its creation day now counts it to won
    today = to_local(opp.closed_at).date()
    assert shown(Filters(today, today, None))["months"] == {today.strftime("%Y-%m"): (1, _money(opp.expected_revenue))}
    opportunities.move(an_open_opportunity().id, "lost", manager, reason="价格偏高")
    assert_exact(WHOLE, (created, created), (today, today))


def test_moves_either_side_of_local_midnight_and_back_dated_changes(ctx, monkeypatch):
    seeded()
    manager = actor_for("manager")
    day = dt.date(2026, 6, 20)
    midnight = local_day_start_utc(day + dt.timedelta(days=1))  # 16:00 UTC in Shanghai
    first, second = db.session.execute(select(Opportunity.id).where(Opportunity.stage == "negotiation")
                                       .order_by(Opportunity.id).limit(2)).scalars().all()
    monkeypatch.setattr(opportunities, "utcnow", lambda: midnight - dt.timedelta(seconds=1))
    opportunities.move(first, "won", manager)
    monkeypatch.setattr(opportunities, "utcnow", lambda: midnight)
    opportunities.move(second, "lost", manager, reason="联系不上")
    same_day, next_day = Filters(day, day, None), Filters(day + dt.timedelta(days=1), day + dt.timedelta(days=1), None)
    assert sum(n for n, _r in shown(same_day)["months"].values()) == 1 and shown(same_day)["lost"] == {}
    assert shown(next_day)["months"] == {} and shown(next_day)["lost"] == {"联系不上": 1}
    # A back-dated correction of the creation time, across the local midnight, moves the funnel count.
    opp = db.session.get(Opportunity, first)
    opp.created_at = local_day_start_utc(dt.date(2026, 2, 2)) - dt.timedelta(microseconds=1)
    db.session.commit()
    feb1 = Filters(dt.date(2026, 2, 1), dt.date(2026, 2, 1), None)
    assert shown(feb1)["funnel"][3] == live(feb1)["funnel"][3] >= 1
    assert_exact(WHOLE, (day, day), (dt.date(2026, 2, 1), dt.date(2026, 2, 2)))


def test_reassignment_conversion_and_rollback(ctx):
    seeded()
    manager = actor_for("manager")
    sales1, sales2 = owners()
    # Any won deal: the seed spreads deals over every Sales user, and other tests may have added some.
    won = db.session.execute(select(Opportunity).where(Opportunity.stage == "won")
                             .order_by(Opportunity.id).limit(1)).scalar_one()
    new_owner = sales2 if won.owner_id != sales2 else sales1
    opportunities.update(won.id, {"owner_id": new_owner}, manager)  # a manager reassigns a won deal
    lead = make_lead("sales1", id_number=an_id_number())
    leads.convert(lead.id, {"expected_revenue": "300"}, actor_for("sales1"))  # a new customer for sales1
    before = summary_rows()
    with pytest.raises(RuntimeError), sales.one_transaction():  # nothing of a failed transaction stays
        opportunities.move(an_open_opportunity().id, "lost", manager, reason="暂无需求")
        raise RuntimeError("halfway")
    assert summary_rows() == before
    assert_exact(WHOLE, (to_local(won.closed_at).date(), to_local(won.closed_at).date()))


def test_rebuild_finds_nothing_to_correct_after_service_changes_and_repairs_raw_sql(ctx):
    seeded()
    manager = actor_for("manager")
    opportunities.move(an_open_opportunity().id, "negotiation", manager)
    kept = summary_rows()
    result = sales_summary.rebuild()
    assert result["corrected"] == 0 and summary_rows() == kept
    # A write around the ORM (hand-run SQL) is invisible to the upkeep until the rebuild.
    db.session.execute(text("UPDATE opportunity SET owner_id = :o WHERE stage = 'lost'"), {"o": owners()[0]})
    db.session.commit()
    assert shown(Filters(*WHOLE, owners()[0]))["lost"] != live(Filters(*WHOLE, owners()[0]))["lost"]
    assert sales_summary.rebuild()["corrected"] > 0
    assert_exact(WHOLE)


def test_job_rebuilds_idempotently_and_init_fills_an_empty_summary(ctx):
    seeded()
    first = jobs.execute("sales_summary", trigger="manual")
    rows = summary_rows()
    second = jobs.execute("sales_summary", trigger="manual")
    assert (first.status, second.status) == ("success", "success")
    assert json.loads(second.counts)["corrected"] == 0 and summary_rows() == rows
    db.session.execute(text("DELETE FROM sales_daily"))  # as right after the upgrade that adds the table
    db.session.commit()
    assert sales_summary.ensure_built()["rows"] == len(rows)
    assert sales_summary.ensure_built() is None  # later `crm init` runs leave it alone
    assert_exact(WHOLE)


def test_only_managers_see_the_figures(ctx):
    seeded()
    with pytest.raises(Forbidden):
        sales_dashboard.funnel(Filters(*WHOLE, None), actor_for("sales1"))


def test_concurrent_moves_and_a_rebuild_lose_nothing(app, ctx):
    """Salespeople moving deals of the same day at once, while the nightly rebuild runs: the summary
    adds each change (no lost update) and the rebuild neither drops nor doubles one."""
    from tests.sales.conftest import make_opportunity

    made = [make_opportunity("sales1").id for _ in range(12)]
    db.session.remove()
    barrier = threading.Barrier(3)
    errors: list[Exception] = []

    def mover(ids: list[int]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                for opp_id in ids:
                    for stage in ("intent", "negotiation", "won"):
                        opportunities.move(opp_id, stage, actor_for("sales1"))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    def rebuilder() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                for _ in range(3):
                    sales_summary.rebuild()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=mover, args=(made[:6],)), threading.Thread(target=mover, args=(made[6:],)),
               threading.Thread(target=rebuilder)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    today = to_local(db.session.get(Opportunity, made[0]).closed_at).date()
    assert shown(Filters(today, today, None))["funnel"] == [12, 12, 12, 12]
    assert_exact((today - dt.timedelta(days=1), today + dt.timedelta(days=1)))
    assert sales_summary.rebuild()["corrected"] == 0
