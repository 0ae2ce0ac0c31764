"""Short name searches read from `customer_name_gram` (PostgreSQL, migration 0026).

A list whose only filter is a one- or two-character name search takes its count and page from the
gram table alone. These tests check that the table follows every kind of write, and that lists and
the API give exactly the rows FAB's own "contains" (ILIKE) gives, in order, with the right count.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models.customer import Customer
from app.services import customers
from tests.conftest import recorded_statements
from tests.factories import make_customer


@pytest.fixture
def pg(ctx) -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("the gram table exists on PostgreSQL only")


def _stored() -> set[tuple[str, int]]:
    return {(g, i) for g, i in db.session.execute(text("SELECT gram, customer_id FROM customer_name_gram"))}


def _expected() -> set[tuple[str, int]]:
    """Every customer's characters and character pairs in lower case (as ILIKE compares), worked
    out here, not by the database."""
    rows = db.session.execute(text("SELECT id, name FROM customer")).all()
    return {(name.lower()[i:i + n], cid) for cid, name in rows for n in (1, 2) for i in range(len(name) - n + 1)}


def test_the_gram_rows_follow_every_write(pg, actor):
    clerk, manager = actor("clerk1"), actor("manager")
    first = make_customer(clerk, name="王秀荣")
    second = make_customer(clerk, name="李静 Li")
    assert ("秀荣", first.id) in _stored()
    assert _stored() == _expected()

    customers.update(first.id, {"name": "王静怡"}, manager, version=first.version)  # a rename
    assert ("秀荣", first.id) not in _stored() and ("静怡", first.id) in _stored()
    assert _stored() == _expected()

    customers.update(second.id, {"city": "杭州"}, manager, version=second.version)  # no rename: unchanged
    assert _stored() == _expected()

    customers.delete(second.id, manager)
    assert not {row for row in _stored() if row[1] == second.id}
    assert _stored() == _expected()

    # A multi-row INSERT (as an import's COPY does) and a multi-row DELETE, each one statement:
    # copies of the first customer under other names, mobiles and resident-ID indexes.
    copy = {"name": "v.name", "mobile": "v.mobile", "id_number_bidx": "v.bidx"}
    columns = [c.name for c in Customer.__table__.columns if c.name != "id"]
    db.session.execute(text(
        f"INSERT INTO customer ({', '.join(columns)}) "  # noqa: S608 - the model's own column names
        f"SELECT {', '.join(copy.get(c, 'c.' + c) for c in columns)} FROM customer AS c, (VALUES "
        "('赵秀荣', '19999999901', 'bulk-1'), ('钱秀', '19999999902', 'bulk-2')) AS v(name, mobile, bidx) "
        "WHERE c.id = :id"), {"id": first.id})
    assert {("秀荣", i) for i, in db.session.execute(text(
        "SELECT id FROM customer WHERE mobile = '19999999901'"))} <= _stored()
    assert _stored() == _expected()
    db.session.execute(text("DELETE FROM customer WHERE mobile IN ('19999999901', '19999999902')"))
    assert _stored() == _expected()
    db.session.commit()


def test_truncating_customers_empties_the_gram_table(pg, actor):
    make_customer(actor("clerk1"), name="王秀荣")
    db.session.execute(text("TRUNCATE customer CASCADE"))
    assert _stored() == set()
    db.session.commit()


NAMES = ["王秀荣", "秀荣", "李秀荣", "张秀", "荣秀", "欧阳秀荣芳", "王静"]


@pytest.fixture
def people(ctx, actor) -> dict[str, int]:
    clerk = actor("clerk1")
    return {name: make_customer(clerk, name=name).id for name in NAMES}


def _search(client: Any, headers: dict[str, str], term: str, page: int = 0, size: int = 100) -> dict[str, Any]:
    q = f"(filters:!((col:name,opr:ct,value:'{term}')),order_column:id,order_direction:desc," \
        f"page:{page},page_size:{size})"
    resp = client.get(f"/api/v1/customers/?q={q}", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


@pytest.mark.parametrize("term", ["秀荣", "秀", "荣秀", "芳", "王"])
def test_a_manager_finds_exactly_the_names_with_the_term_in_id_order(people, api_token, client, term):
    body = _search(client, api_token("manager"), term)
    wanted = sorted((cid for name, cid in people.items() if term in name), reverse=True)
    assert [row["id"] for row in body["result"]] == wanted
    assert body["count"] == len(wanted)


def test_the_list_page_reads_the_gram_table_for_a_manager(pg, people, as_user):
    client = as_user("manager")
    with recorded_statements() as statements:
        html = client.get("/customers/list/?_flt_2_name=秀荣").get_data(as_text=True)
    assert "欧阳秀荣芳" in html and "李秀荣" in html and "张秀" not in html
    assert any("customer_name_gram" in s for s in statements)


def test_pages_of_a_short_search_and_a_page_past_the_end(pg, ctx, actor, api_token, client):
    clerk = actor("clerk1")
    ids = sorted((make_customer(clerk, name=f"秀荣{chr(0x4e00 + i)}").id for i in range(25)), reverse=True)
    headers = api_token("manager")
    pages = [_search(client, headers, "秀荣", page=p, size=10) for p in range(4)]
    assert [[row["id"] for row in body["result"]] for body in pages] == [ids[:10], ids[10:20], ids[20:], []]
    assert [body["count"] for body in pages] == [25, 25, 25, 25]


@pytest.mark.parametrize("term", ["ab", "AB", "aB"])
def test_two_letters_ignore_case_as_fabs_contains_does(ctx, actor, api_token, client, term):
    # FAB's ILIKE ignores case: so does the (lower-cased) gram table, and the case-keeping GIN
    # index must not narrow a cased term for a clerk, whose row rule takes the other path.
    clerk = actor("clerk1")
    wanted = {make_customer(clerk, name=name).id for name in ("Abby Wang", "DABO LI", "Mab")}
    make_customer(clerk, name="Bob A")
    for user in ("manager", "clerk1"):
        headers = api_token(user)
        with recorded_statements() as statements:
            body = _search(client, headers, term)
        assert {row["id"] for row in body["result"]} == wanted, user
        assert body["count"] == len(wanted)
        if user == "manager" and db.session.get_bind().dialect.name == "postgresql":
            assert any("customer_name_gram" in s for s in statements)


def test_wildcards_in_a_short_term_mean_what_fabs_contains_means(people, api_token, client):
    # FAB passes % and _ to ILIKE as wildcards; the gram table must not change that answer.
    body = _search(client, api_token("manager"), "秀_")
    assert {row["id"] for row in body["result"]} == {
        cid for name, cid in people.items() if any(name[i] == "秀" for i in range(len(name) - 1))}
