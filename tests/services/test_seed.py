"""`crm seed`: deterministic, valid, consistent demo data; first-run guard; demo users."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app.extensions import appbuilder, db
from app.models.bill import Bill, BillLine
from app.models.customer import Customer
from app.models.payment import Payment
from app.models.plan import Plan
from app.models.subscription import Subscription
from app.models.usage import UsageRecord
from app.services import arrears, seed, setup
from app.services.customers import reveal_value
from app.services.identity import REGIONS, make_id_number
from app.services.masking import mask_id_number
from app.services.seed_people import fast_id_number
from app.services.validation import check_id_number, check_mobile, id_birth_date, id_gender, mobile_carrier
from tests.conftest import DEMO_USERS, TEST_PASSWORD, business_tables

N = 120


def _empty() -> None:
    db.session.rollback()
    for table in business_tables():
        db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
    db.session.commit()


def _snapshot() -> dict:
    customers = db.session.execute(select(Customer).order_by(Customer.id)).scalars().all()
    order = {c.id: i for i, c in enumerate(customers)}
    bills = db.session.execute(select(Bill).order_by(Bill.id)).scalars().all()
    usage = db.session.execute(select(UsageRecord).order_by(UsageRecord.id)).scalars().all()
    return {
        "customers": [(c.name, c.mobile, c.id_number_bidx, c.id_number_masked, c.segment, c.status,
                       c.address, c.birth_date) for c in customers],
        "bills": sorted((order[b.customer_id], b.month, b.total, b.paid_amount, b.status) for b in bills),
        "usage": sorted((order[u.customer_id], u.month, u.voice_minutes, u.data_mb) for u in usage),
    }


def test_same_seed_same_data_other_seed_other_data(ctx) -> None:  # noqa: ANN001
    seed.run(N, months=4, random_seed=11)
    first = _snapshot()
    _empty()
    seed.run(N, months=4, random_seed=11)
    second = _snapshot()
    _empty()
    seed.run(N, months=4, random_seed=12)
    other = _snapshot()
    assert len(first["customers"]) == N
    assert first == second
    assert first["customers"] != other["customers"]
    assert first["bills"] != other["bills"]


def test_seeded_identity_values_are_valid(ctx) -> None:  # noqa: ANN001
    seed.run(N, months=3, random_seed=5)
    customers = db.session.execute(select(Customer)).scalars().all()
    assert len(customers) == N
    assert len({c.mobile for c in customers}) == N
    assert len({c.id_number_bidx for c in customers}) == N
    carriers = set()
    for c in customers:
        number = reveal_value(c)
        assert check_id_number(number) == number
        assert c.id_number_masked == mask_id_number(number)
        assert c.birth_date == id_birth_date(number)
        assert c.gender == id_gender(number)
        assert check_mobile(c.mobile) == c.mobile
        assert c.carrier == mobile_carrier(c.mobile)
        carriers.add(c.carrier)
        # Exact search by resident ID goes through the blind index.
        assert db.session.execute(select(Customer.id).where(Customer.id_number == number)).scalar() == c.id
    assert {"cmcc", "cucc", "ctcc"} <= carriers
    assert {c.segment for c in customers} == {"high_value", "potential", "ordinary", "low_value"}
    assert any(c.consent_marketing for c in customers) and not all(c.consent_marketing for c in customers)
    # Mobile and fusion lines carry the customer's mobile as their number.
    mobile_of = {c.id: c.mobile for c in customers}
    lines = db.session.execute(select(Subscription, Plan.plan_type).join(Plan)).all()
    for sub, plan_type in lines:
        if plan_type in ("mobile", "fusion"):
            assert sub.number == mobile_of[sub.customer_id]
    assert any(sub.expiry_date for sub, _t in lines)


def test_fast_id_number_matches_identity_helper() -> None:
    rng = random.Random(3)
    for _ in range(500):
        region = REGIONS[rng.randrange(len(REGIONS))][0]
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000))
        seq, gender = rng.randrange(500), rng.choice("MF")
        assert fast_id_number(region, birth, seq, gender) == make_id_number(region, birth, seq, gender)


def test_bills_add_up_and_some_customers_are_in_arrears(ctx) -> None:  # noqa: ANN001
    months = 6
    seed.run(N, months=months, random_seed=21)
    lines = defaultdict(Decimal)
    kinds = set()
    for line in db.session.execute(select(BillLine)).scalars():
        lines[line.bill_id] += line.amount
        kinds.add(line.item_type)
    paid = defaultdict(Decimal)
    for payment in db.session.execute(select(Payment)).scalars():
        paid[payment.bill_id] += payment.amount
    bills = db.session.execute(select(Bill)).scalars().all()
    assert len(bills) > N * (months - 2)
    assert {"base", "vas", "voice_overage", "data_overage"} <= kinds
    statuses = defaultdict(int)
    for bill in bills:
        assert bill.total == lines[bill.id], bill.id
        assert bill.total == bill.base_fee + bill.vas_fee + bill.voice_overage + bill.data_overage + bill.other_fee
        assert bill.paid_amount == paid.get(bill.id, Decimal("0"))
        assert bill.due_date > bill.month
        statuses[bill.status] += 1
    assert statuses["paid"] > len(bills) * 0.7
    assert statuses["unpaid"] > 0
    customer_ids = db.session.execute(select(Customer.id)).scalars().all()
    in_arrears = [cid for cid in customer_ids if arrears.for_customer(cid).has_arrears]
    assert 0 < len(in_arrears) < N / 2
    usage = db.session.execute(select(UsageRecord)).scalars().all()
    assert usage and all(u.voice_minutes >= 0 and u.data_mb >= 0 for u in usage)


def test_first_run_does_nothing_when_customers_exist(ctx) -> None:  # noqa: ANN001
    first = seed.run(30, months=2, random_seed=1, first_run=True)
    assert not first.skipped and seed.existing_customers() == 30
    again = seed.run(30, months=2, random_seed=2, first_run=True)
    assert again.skipped
    assert seed.existing_customers() == 30
    # Without --first-run a second seed adds customers without clashing with the first.
    seed.run(30, months=2, random_seed=1)
    assert seed.existing_customers() == 60


@pytest.fixture
def _restore_passwords(app):  # noqa: ANN001, ANN202
    yield
    with app.app_context():
        for username in list(DEMO_USERS) + ["admin"]:
            if appbuilder.sm.find_user(username=username) is not None:
                setup.set_password(username, TEST_PASSWORD)


def test_demo_users_are_created_or_reset(ctx, _restore_passwords) -> None:  # noqa: ANN001
    result = seed.run(0, demo_users=True, password="seed-pass-2026")
    assert len(result.users) == 7
    expected = {
        "admin": ("Admin", None), "manager": ("Manager", None), "sales1": ("Sales", "sales"),
        "sales2": ("Sales", "sales"), "agent1": ("Agent", "customer-service"),
        "agent2": ("Agent", "technical"), "clerk1": ("Clerk", None),
    }
    for username, (role, department) in expected.items():
        user = appbuilder.sm.find_user(username=username)
        assert user is not None, username
        assert role in {r.name for r in user.roles}
        assert (user.department.code if user.department else None) == department
        assert appbuilder.sm.auth_user_db(username, "seed-pass-2026") is not None


def test_seed_command(app, _restore_passwords) -> None:  # noqa: ANN001
    runner = app.test_cli_runner()
    out = runner.invoke(args=["crm", "seed", "--customers", "25", "--months", "2", "--random-seed", "9"])
    assert out.exit_code == 0, out.output
    assert "Seeded 25 customers" in out.output
    out = runner.invoke(args=["crm", "seed", "--first-run", "--customers", "25"])
    assert out.exit_code == 0 and "already exist" in out.output
    out = runner.invoke(args=["crm", "seed", "--customers", "0", "--demo-users"])
    assert out.exit_code != 0
    with app.app_context():
        owners = db.session.execute(select(Customer.owner_id).where(Customer.owner_id.is_not(None))).scalars().all()
        sales = {u.id for u in appbuilder.sm.get_all_users() if "Sales" in {r.name for r in u.roles}}
        assert owners and set(owners) <= sales


def test_keep_admin_password_leaves_admin_alone(ctx, _restore_passwords) -> None:  # noqa: ANN001
    from app.extensions import appbuilder
    from app.services import setup

    if appbuilder.sm.find_user(username="admin") is None:
        setup.create_user("admin", "printed-by-init-1", "Admin")
    else:
        setup.set_password("admin", "printed-by-init-1")
    result = seed.run(0, demo_users=True, password="demo-pass-2026", keep_admin_password=True)
    assert "admin (password kept)" in result.users
    assert appbuilder.sm.auth_user_db("admin", "printed-by-init-1") is not None
    assert appbuilder.sm.auth_user_db("clerk1", "demo-pass-2026") is not None


def test_seeded_customers_are_found_by_a_short_name_search(ctx) -> None:  # noqa: ANN001
    """The seed loads with triggers off on PostgreSQL; it must fill the name grams (migration 0026)
    itself, or a two-character search would miss every seeded customer."""
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("the gram table exists on PostgreSQL only")
    seed.run(N, months=1, random_seed=7)
    names = dict(db.session.execute(text("SELECT id, name FROM customer")).all())
    wanted = {(name.lower()[i:i + n], cid) for cid, name in names.items() for n in (1, 2)
              for i in range(len(name) - n + 1)}
    stored = set(db.session.execute(text("SELECT gram, customer_id FROM customer_name_gram")).all())
    assert len(names) == N
    assert stored == wanted
