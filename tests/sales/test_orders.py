"""Orders: the state machine (every legal and illegal transition), no edit after approval, audit,
and collecting writes the payment and opens the new plan's line through the foundation's services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.business_change import BusinessChange
from app.models.order import ORDER_STATES, SalesOrder
from app.models.payment import Payment
from app.models.subscription import Subscription
from app.services import orders
from app.services.errors import Forbidden, Invalid, NotFound
from app.services.orders import TRANSITIONS
from tests.conftest import actor_for
from tests.factories import make_plan
from tests.sales.conftest import make_opportunity, make_order

_numbers = iter(range(13700000100, 13700099999))


def order_in(state: str) -> SalesOrder:
    if state == "rejected":
        order = make_order(state="submitted", number=str(next(_numbers)))
        return orders.transition(order.id, "rejected", actor_for("manager"), note="discount too high")
    return make_order(state=state, number=str(next(_numbers)))


def test_legal_transitions():
    assert TRANSITIONS == {"draft": ("submitted",), "submitted": ("approved", "rejected"),
                           "approved": ("delivered",), "rejected": ("draft",), "delivered": ("collected",),
                           "collected": ("closed",), "closed": ()}


@pytest.mark.parametrize("start", ORDER_STATES)
def test_every_transition_from_each_state(ctx, start):
    for target in ORDER_STATES:
        if target == start:
            continue
        order = order_in(start)
        mover = actor_for("manager")
        audits = db.session.execute(select(func.count(AuditLog.id)).where(AuditLog.entity == "sales_order")).scalar()
        if target in TRANSITIONS[start]:
            moved = orders.transition(order.id, target, mover, note="because", method="alipay")
            assert moved.state == target
            entry = db.session.execute(select(AuditLog).where(AuditLog.entity == "sales_order")
                                       .order_by(AuditLog.id.desc()).limit(1)).scalar_one()
            assert entry.action == "transition" and f'"{start}"' in entry.changes and f'"{target}"' in entry.changes
        else:
            with pytest.raises(Invalid) as exc:
                orders.transition(order.id, target, mover, note="because", method="alipay")
            assert "state" in exc.value.errors
            db.session.rollback()
            assert db.session.get(SalesOrder, order.id).state == start
            assert db.session.execute(select(func.count(AuditLog.id)).where(
                AuditLog.entity == "sales_order")).scalar() == audits


def test_only_a_manager_approves_or_rejects(ctx, actor):
    order = make_order(state="submitted")
    for target in ("approved", "rejected"):
        with pytest.raises(Forbidden):
            orders.transition(order.id, target, actor("sales1"), note="x")
    with pytest.raises(Invalid) as exc:
        orders.transition(order.id, "rejected", actor("manager"))
    assert "note" in exc.value.errors
    order = orders.transition(order.id, "approved", actor("manager"))
    assert order.decided_by_id == actor("manager").id and order.decided_at is not None


def test_lines_are_editable_in_draft_only(ctx, actor):
    order = make_order(state="draft")
    assert order.total == Decimal("2088.00") and order.list_total == Decimal("2098.00")
    order = orders.update(order.id, {"lines": [{"kind": "device", "description": "Router", "unit_price": "300",
                                                "quantity": 2}]}, actor("sales1"))
    assert order.total == Decimal("600.00") and len(order.lines) == 1
    orders.transition(order.id, "submitted", actor("sales1"))
    orders.transition(order.id, "approved", actor("manager"))
    with pytest.raises(Invalid) as exc:
        orders.update(order.id, {"lines": [{"kind": "device", "description": "Free", "unit_price": "0"}]},
                      actor("manager"))
    assert "lines" in exc.value.errors
    db.session.rollback()
    assert db.session.get(SalesOrder, order.id).total == Decimal("600.00")


def test_orders_only_for_won_opportunities_and_lines_are_checked(ctx, actor):
    opp = make_opportunity(stage="negotiation")
    with pytest.raises(Invalid) as exc:
        orders.create({"opportunity_id": opp.id, "lines": [{"kind": "device", "description": "x",
                                                            "unit_price": "1"}]}, actor("sales1"))
    assert "opportunity_id" in exc.value.errors
    won = make_opportunity(stage="won")
    with pytest.raises(Invalid) as exc:
        orders.create({"opportunity_id": won.id, "lines": [{"kind": "plan", "plan_id": 999999},
                                                           {"kind": "device", "unit_price": "-3"}]}, actor("sales1"))
    assert len(exc.value.errors["lines"]) == 2
    with pytest.raises(Invalid) as exc:
        orders.create({"opportunity_id": won.id, "lines": []}, actor("sales1"))
    assert "lines" in exc.value.errors


def test_collecting_writes_payment_subscription_and_business_change(ctx, actor):
    order = make_order(state="delivered", number="13700000001")
    with pytest.raises(Invalid) as exc:
        orders.transition(order.id, "collected", actor("sales1"), method="barter")
    assert "method" in exc.value.errors
    db.session.rollback()
    order = orders.transition(order.id, "collected", actor("sales1"), method="wechat")
    payment = db.session.get(Payment, order.payment_id)
    assert (payment.amount, payment.method, payment.customer_id) == (Decimal("2088.00"), "wechat", order.customer_id)
    sub = db.session.execute(select(Subscription).where(Subscription.number == "13700000001")).scalar_one()
    assert sub.customer_id == order.customer_id and sub.status == "active"
    assert db.session.execute(select(BusinessChange).where(BusinessChange.subscription_id == sub.id,
                                                           BusinessChange.change_type == "open")).first()
    assert order.lines[0].subscription_id == sub.id


def test_collecting_fails_as_a_whole_when_the_number_is_taken(ctx, actor):
    order = make_order(state="delivered", number="13700000002")
    from app.services import subscriptions
    from tests.factories import make_customer

    other = make_customer(actor("manager"))
    subscriptions.open_line({"customer_id": other.id, "plan_id": make_plan(actor("manager")).id,
                             "number": "13700000002"}, actor("manager"))
    with pytest.raises(Invalid) as exc:
        orders.transition(order.id, "collected", actor("sales1"), method="cash")
    assert "lines" in exc.value.errors
    assert db.session.get(SalesOrder, order.id).state == "delivered"
    assert db.session.execute(select(func.count(Payment.id))).scalar() == 0


def test_collecting_is_atomic_when_the_payment_fails(ctx, actor, monkeypatch):
    from app.services import payments

    order = make_order(state="delivered", number="13700000003")

    def broken(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("payment gateway down")

    monkeypatch.setattr(payments, "record", broken)
    with pytest.raises(RuntimeError):
        orders.transition(order.id, "collected", actor("sales1"), method="cash")
    db.session.expire_all()
    assert db.session.get(SalesOrder, order.id).state == "delivered"
    assert db.session.execute(select(func.count(Subscription.id))).scalar() == 0


def test_row_rules(ctx, actor):
    order = make_order("sales1")
    with pytest.raises(NotFound):
        orders.transition(order.id, "submitted", actor("sales2"))
    with pytest.raises(NotFound):
        orders.get(order.id, actor("sales2"))
    assert orders.get(order.id, actor("manager")).id == order.id
