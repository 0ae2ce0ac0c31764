"""The merge service: every related record moves, choices are honoured, refusals are clean."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.bill import Bill, BillLine
from app.models.business_change import BusinessChange
from app.models.customer import Customer
from app.models.customer_alias import CustomerAlias
from app.models.payment import Payment
from app.services import customer_merge, customers
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from tests.factories import make_customer
from tests.merge.conftest import count_refs

# The relations the issue names: each must have a row for the merged customer before the merge.
NAMED = ("subscription.customer_id", "bill.customer_id", "payment.customer_id", "usage_record.customer_id",
         "ticket.customer_id", "care_task.customer_id", "lead.customer_id", "opportunity.customer_id",
         "sales_order.customer_id", "contact_log.customer_id", "business_change.customer_id",
         "churn_score.customer_id", "segment_snapshot.customer_id", "outbox_message.customer_id")


def _money(customer_id: int) -> tuple[Decimal, Decimal, int, int]:
    bills = select(Bill.id).where(Bill.customer_id == customer_id)
    return (
        db.session.execute(select(func.coalesce(func.sum(Bill.total), 0)).where(Bill.customer_id == customer_id))
        .scalar_one(),
        db.session.execute(select(func.coalesce(func.sum(Payment.amount), 0))
                           .where(Payment.customer_id == customer_id)).scalar_one(),
        db.session.execute(select(func.count()).select_from(BillLine).where(BillLine.bill_id.in_(bills)))
        .scalar_one(),
        db.session.execute(select(func.count()).select_from(Payment).where(Payment.bill_id.in_(bills)))
        .scalar_one(),
    )


def test_merge_moves_every_related_record(pair, actor) -> None:
    survivor_id, merged_id = pair
    before_m, before_s = count_refs(merged_id), count_refs(survivor_id)
    for key in NAMED:
        assert before_m[key] > 0, f"test data lacks {key}"
    money_m, money_s = _money(merged_id), _money(survivor_id)
    plan = {f"{p.table}.{p.column}": p for p in customer_merge.plan(survivor_id, merged_id, actor("clerk1"))}
    assert plan["bill.customer_id"].conflicts > 0  # same months billed on both records
    assert plan["churn_score.customer_id"].conflicts == 1

    customer_merge.merge(survivor_id, merged_id, {}, actor("clerk1"))

    after_m, after_s = count_refs(merged_id), count_refs(survivor_id)
    # Generic over the schema: nothing anywhere points at the merged id any more.
    assert not any(after_m.values()), {k: v for k, v in after_m.items() if v}
    for key, p in plan.items():
        expected = before_s[key] + before_m[key] - p.conflicts
        if key in ("business_change.customer_id", "customer_alias.survivor_id"):
            expected += 1  # the merge's own history entry and alias
        assert after_s[key] == expected, key
    # Bills of the same month were folded, not dropped: no money, line or payment lost.
    total, paid, lines, bill_payments = _money(survivor_id)
    assert total == money_m[0] + money_s[0]
    assert paid == money_m[1] + money_s[1]
    assert lines == money_m[2] + money_s[2]
    assert bill_payments == money_m[3] + money_s[3]
    months = db.session.execute(select(Bill.month, func.count()).where(Bill.customer_id == survivor_id)
                                .group_by(Bill.month)).all()
    assert all(n == 1 for _, n in months)
    for bill in db.session.execute(select(Bill).where(Bill.customer_id == survivor_id)).scalars():
        assert bill.status == ("paid" if bill.paid_amount >= bill.total else
                               "partial" if bill.paid_amount > 0 else "unpaid")
    # The survivor keeps its own score where both had one.
    assert db.session.execute(select(func.count()).select_from(Customer).where(Customer.id == merged_id)) \
        .scalar_one() == 0


def test_field_choices_are_honoured_and_pii_moves_whole(ctx, actor) -> None:
    clerk = actor("clerk1")
    a = make_customer(clerk, name="张三", email="a@example.com", city="北京")
    b = make_customer(clerk, name="张三丰", email="b@example.com", city="上海", consent_marketing=True)
    a_id, b_id = a.id, b.id
    b_id_number, b_mobile = customers.reveal_value(b), b.mobile
    a_mobile = a.mobile
    b_birth, b_gender = b.birth_date, b.gender
    result = customer_merge.merge(a_id, b_id, {
        "name": "merged", "id_number": "merged", "mobile": "merged", "city": "merged",
        "consent_marketing": "merged", "email": "survivor",
    }, clerk)
    db.session.expire_all()
    s = db.session.get(Customer, a_id)
    assert s.name == "张三丰" and s.city == "上海" and s.email == "a@example.com" and s.consent_marketing
    # Ciphertext, blind index and masked copy moved together; birth date and gender follow the ID.
    assert customers.reveal_value(s) == b_id_number
    assert customers.find_by_id_number(b_id_number, clerk).id == a_id
    assert s.mobile == b_mobile and s.carrier
    assert (s.birth_date, s.gender) == (b_birth, b_gender)
    assert result.changed.keys() >= {"name", "id_number", "mobile", "city"}
    # Uniqueness holds: the taken values are the survivor's alone, and the old mobile is free again.
    assert db.session.execute(select(func.count()).select_from(Customer)
                              .where(Customer.mobile == b_mobile)).scalar_one() == 1
    again = make_customer(clerk, mobile=a_mobile)
    assert again.mobile == a_mobile
    with pytest.raises(Invalid) as exc:
        make_customer(clerk, id_number=b_id_number)
    assert "id_number" in exc.value.errors
    # The alias, the business change and the audit entry.
    assert db.session.get(CustomerAlias, b_id).survivor_id == a_id
    assert customer_merge.resolve_alias(b_id, clerk) == a_id
    change = db.session.execute(select(BusinessChange).where(BusinessChange.customer_id == a_id,
                                                             BusinessChange.change_type == "merge")).scalar_one()
    assert json.loads(change.after)["name"] == "张三丰"
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "merge")).scalar_one()
    details = json.loads(entry.changes)
    assert entry.entity_id == str(a_id)
    assert details["survivor_id"] == a_id and details["merged_id"] == b_id
    assert details["choices"]["name"] == "merged" and details["choices"]["email"] == "survivor"
    assert b_id_number not in entry.changes and b_mobile not in entry.changes  # PII masked in the log


def test_mismatched_birth_date_is_a_field_error(ctx, actor) -> None:
    clerk = actor("clerk1")
    a, b = make_customer(clerk), make_customer(clerk)
    a_id, b_id = a.id, b.id
    with pytest.raises(Invalid) as exc:
        customer_merge.merge(a_id, b_id, {"id_number": "merged", "birth_date": "survivor"}, clerk)
    assert "birth_date" in exc.value.errors
    db.session.rollback()
    assert db.session.get(Customer, b_id) is not None  # nothing written


def test_merge_of_a_survivor_moves_its_aliases(ctx, actor) -> None:
    clerk = actor("clerk1")
    a, b, c = make_customer(clerk), make_customer(clerk), make_customer(clerk)
    a_id, b_id, c_id = a.id, b.id, c.id
    customer_merge.merge(b_id, a_id, {}, clerk)
    customer_merge.merge(c_id, b_id, {}, clerk)
    assert customer_merge.resolve_alias(a_id, clerk) == c_id
    assert customer_merge.resolve_alias(b_id, clerk) == c_id


def test_refusals(ctx, actor) -> None:
    clerk, sales = actor("clerk1"), actor("sales1")
    mine = make_customer(sales)
    other = make_customer(clerk)
    mine_id, other_id = mine.id, other.id
    with pytest.raises(Invalid) as exc:
        customer_merge.merge(mine_id, mine_id, {}, clerk)
    assert "merged_id" in exc.value.errors
    # Sales may not merge at all, and a manager cannot merge a record that does not exist.
    with pytest.raises(Forbidden):
        customer_merge.merge(mine_id, other_id, {}, sales)
    with pytest.raises(NotFound):
        customer_merge.merge(mine_id, 999999, {}, actor("manager"))
    with pytest.raises(Invalid) as exc:
        customer_merge.merge(mine_id, other_id, {"name": "both", "colour": "merged"}, clerk)
    assert set(exc.value.errors) == {"name", "colour"}
    # Stale versions: someone edited the record after the page was opened.
    version = db.session.get(Customer, other_id).version
    customers.update(other_id, {"city": "天津"}, clerk)
    with pytest.raises(Conflict):
        customer_merge.merge(mine_id, other_id, {}, clerk, version_merged=version)
    db.session.rollback()
    assert db.session.get(Customer, other_id) is not None
    assert db.session.execute(select(func.count()).select_from(CustomerAlias)).scalar_one() == 0


def test_invisible_record_is_not_found_for_a_scoped_role(ctx, actor, monkeypatch) -> None:
    """Row rules apply before anything else: a record outside the actor's rows is 404, even for a
    role that could merge (the roles are widened here to reach the row check)."""
    sales = actor("sales1")
    mine, theirs = make_customer(sales), make_customer(actor("sales2"))
    monkeypatch.setattr(customer_merge, "MERGE_ROLES", ("Sales",))
    with pytest.raises(NotFound):
        customer_merge.merge(mine.id, theirs.id, {}, sales)
    assert customer_merge.resolve_alias(theirs.id, sales) is None


def test_candidates_found_like_the_quick_search(ctx, actor) -> None:
    clerk = actor("clerk1")
    a = make_customer(clerk, name="王五")
    b = make_customer(clerk, name="王五一")
    a_id, b_id, b_mobile, b_id_number = a.id, b.id, b.mobile, customers.reveal_value(b)
    assert [c.id for c in customer_merge.candidates(b_id_number, a_id, clerk)] == [b_id]
    assert [c.id for c in customer_merge.candidates(b_mobile, a_id, clerk)] == [b_id]
    assert b_id in [c.id for c in customer_merge.candidates(b_mobile[:7], a_id, clerk)]
    assert [c.id for c in customer_merge.candidates("王五", a_id, clerk)] == [b_id]  # never itself
    assert customer_merge.candidates("王五", a_id, actor("sales1")) == []  # row rules apply
    assert customer_merge.candidates("12", a_id, clerk) == []


def test_stale_survivor_version_is_a_conflict(ctx, actor) -> None:
    clerk = actor("clerk1")
    a, b = make_customer(clerk), make_customer(clerk)
    a_id, b_id, version = a.id, b.id, a.version
    customers.update(a_id, {"city": "天津"}, clerk)
    with pytest.raises(Conflict):
        customer_merge.merge(a_id, b_id, {}, clerk, version_survivor=version)
    db.session.rollback()
    with pytest.raises(Invalid) as exc:
        customer_merge.merge(a_id, b_id, {}, clerk, version_survivor="abc")
    assert "version_survivor" in exc.value.errors
