"""Team hierarchy through pages and the REST API: a team lead's lists and record pages include the
members' records and 404 on a peer team's; a department head reaches the subtree; a move between
teams shows on the very next request. Test data is built in short-lived app contexts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.department import Department
from app.models.team import Team
from app.models.user import CrmUser
from tests.conftest import actor_for
from tests.teams.conftest import (
    make_care_task_for,
    make_customer_for,
    make_lead_for,
    make_opportunity_for,
    make_ticket_for,
    uid,
)

API = "/api/v1"


@pytest.fixture
def in_app(app):  # noqa: ANN001, ANN201
    @contextlib.contextmanager
    def _ctx() -> Iterator[None]:
        with app.app_context():
            yield

    return _ctx


@pytest.fixture
def records(in_app, org):  # noqa: ANN001, ANN201
    """For tm_lead, tm_member and tm_peer: a customer, a lead and an opportunity each (as ids/names)."""
    out = {}
    with in_app():
        for who in ("tm_lead", "tm_member", "tm_peer"):
            c = make_customer_for(who)
            lead = make_lead_for(who)
            opp = make_opportunity_for(who, c.id)
            out[who] = SimpleNamespace(customer=c.id, customer_name=c.name, lead=lead.id, lead_name=lead.name,
                                       opp=opp.id)
    return out


def text(resp: Any) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def test_team_lead_pages_list_and_show_members_records_only(as_user, records):
    lead = as_user("tm_lead")
    html = text(lead.get("/customers/list/?psize_CustomerModelView=100"))
    assert records["tm_member"].customer_name in html and records["tm_lead"].customer_name in html
    assert records["tm_peer"].customer_name not in html
    html = text(lead.get("/leads/list/"))
    assert records["tm_member"].lead_name in html and records["tm_peer"].lead_name not in html
    assert lead.get(f"/customer360/{records['tm_member'].customer}").status_code == 200
    assert lead.get(f"/customer360/{records['tm_peer'].customer}").status_code == 404
    assert lead.get(f"/leads/show/{records['tm_member'].lead}").status_code == 200
    assert lead.get(f"/leads/show/{records['tm_peer'].lead}").status_code == 404
    assert lead.get(f"/opportunities/show/{records['tm_member'].opp}").status_code == 200
    assert lead.get(f"/opportunities/show/{records['tm_peer'].opp}").status_code == 404


def test_member_pages_stay_own_only(as_user, records):
    member = as_user("tm_member")
    html = text(member.get("/customers/list/"))
    assert records["tm_member"].customer_name in html and records["tm_lead"].customer_name not in html
    assert member.get(f"/customer360/{records['tm_lead'].customer}").status_code == 404
    assert member.get(f"/leads/show/{records['tm_lead'].lead}").status_code == 404


def test_team_lead_api_show_and_list_counts(client, api_token, records):
    h = api_token("tm_lead")
    assert client.get(f"{API}/customers/{records['tm_member'].customer}", headers=h).status_code == 200
    assert client.get(f"{API}/customers/{records['tm_peer'].customer}", headers=h).status_code == 404
    body = client.get(f"{API}/customers/", headers=h).get_json()
    assert body["count"] == 2 and set(body["ids"]) == {records["tm_lead"].customer, records["tm_member"].customer}
    body = client.get(f"{API}/leads/", headers=h).get_json()
    assert body["count"] == 2 and set(body["ids"]) == {records["tm_lead"].lead, records["tm_member"].lead}
    assert client.get(f"{API}/opportunities/{records['tm_peer'].opp}", headers=h).status_code == 404
    assert client.get(f"{API}/opportunities/", headers=h).get_json()["count"] == 2
    # The member's API is unchanged: own rows only.
    hm = api_token("tm_member")
    assert client.get(f"{API}/customers/", headers=hm).get_json()["ids"] == [records["tm_member"].customer]
    assert client.get(f"{API}/customers/{records['tm_lead'].customer}", headers=hm).status_code == 404


def test_ticket_and_care_task_api_follow_the_team(client, api_token, in_app, org):
    with in_app():
        tickets = {a: make_ticket_for(a).id for a in ("tm_alead", "tm_amember", "tm_apeer")}
        tasks = {a: make_care_task_for(a).id for a in ("tm_alead", "tm_amember", "tm_apeer")}
    h = api_token("tm_alead")
    assert client.get(f"{API}/tickets/{tickets['tm_amember']}", headers=h).status_code == 200
    assert client.get(f"{API}/tickets/{tickets['tm_apeer']}", headers=h).status_code == 404
    assert client.get(f"{API}/care_tasks/{tasks['tm_amember']}", headers=h).status_code == 200
    assert client.get(f"{API}/care_tasks/{tasks['tm_apeer']}", headers=h).status_code == 404
    body = client.get(f"{API}/care_tasks/", headers=h).get_json()
    assert set(body["ids"]) == {tasks["tm_alead"], tasks["tm_amember"]}
    hp = api_token("tm_apeer")
    assert client.get(f"{API}/tickets/{tickets['tm_amember']}", headers=hp).status_code == 404


def test_department_head_sees_subtree_through_api_not_sibling(client, api_token, in_app, org):
    with in_app():
        child, sibling = make_customer_for("tm_child").id, make_customer_for("tm_sibling").id
        member = make_customer_for("tm_member").id
    h = api_token("tm_head")
    assert client.get(f"{API}/customers/{child}", headers=h).status_code == 200
    assert client.get(f"{API}/customers/{member}", headers=h).status_code == 200
    assert client.get(f"{API}/customers/{sibling}", headers=h).status_code == 404
    assert set(client.get(f"{API}/customers/", headers=h).get_json()["ids"]) == {child, member}


def test_move_between_teams_changes_visibility_on_the_next_request(as_user, in_app, records):
    lead = as_user("tm_lead")
    peer = records["tm_peer"].customer
    assert lead.get(f"/customer360/{peer}").status_code == 404
    with in_app():
        from app.services import teams

        teams.move_user(uid("tm_peer"), _team_id("East A"), actor_for("manager"))
    assert lead.get(f"/customer360/{peer}").status_code == 200
    with in_app():
        from app.services import teams

        teams.move_user(uid("tm_peer"), None, actor_for("manager"))
    assert lead.get(f"/customer360/{peer}").status_code == 404


def _team_id(name: str) -> int:
    return db.session.execute(select(Team.id).where(Team.name == name)).scalar_one()


# --- the admin pages ---------------------------------------------------------------------------------

def test_admin_pages_for_managers_only(as_user, org):
    boss = as_user("manager")
    for url in ("/teams/list/", "/team-members/list/", "/department-structure/list/"):
        assert boss.get(url).status_code == 200, url
    assert "East A" in text(boss.get(f"/teams/show/{org.team_a}"))
    sales = as_user("tm_lead")
    for url in ("/teams/list/", "/team-members/list/", "/department-structure/list/"):
        assert sales.get(url).status_code in (302, 403), url


def test_manager_creates_a_team_and_moves_a_user_through_the_forms(as_user, in_app, org):
    boss = as_user("manager")
    resp = boss.post("/teams/add", data={"name": "West A", "department": str(org.west),
                                         "lead": str(org.ids["tm_sibling"])})
    assert resp.status_code == 302
    with in_app():
        team = db.session.execute(select(Team).where(Team.name == "West A")).scalar_one()
        team_id = team.id
        # The lead joined the team.
        assert db.session.get(CrmUser, org.ids["tm_sibling"]).team_id == team_id
    resp = boss.post(f"/team-members/edit/{org.ids['tm_child']}", data={"team": str(team_id)})
    assert resp.status_code == 302
    with in_app():
        assert db.session.get(CrmUser, org.ids["tm_child"]).team_id == team_id
        moves = db.session.execute(select(AuditLog).where(AuditLog.action == "move",
                                                          AuditLog.entity_id == str(org.ids["tm_child"]))).all()
        assert len(moves) == 1
    # A duplicate name stays on the form with a message; nothing is written.
    html = text(boss.post("/teams/add", data={"name": "West A"}))
    assert "West A" in html
    with in_app():
        assert len(db.session.execute(select(Team.id).where(Team.name == "West A")).all()) == 1


def test_department_parent_loop_is_refused_on_the_form(as_user, in_app, org):
    boss = as_user("manager")
    # tm-east under its own child tm-east-1 would be a loop.
    resp = boss.post(f"/department-structure/edit/{org.east}", data={"parent": str(org.east_1)})
    assert resp.status_code == 200
    with in_app():
        assert db.session.get(Department, org.east).parent_id is None
    resp = boss.post(f"/department-structure/edit/{org.west}",
                     data={"parent": str(org.east), "head": str(org.ids["tm_sibling"])})
    assert resp.status_code == 302
    with in_app():
        west = db.session.get(Department, org.west)
        assert (west.parent_id, west.head_user_id) == (org.east, org.ids["tm_sibling"])


def test_reach_is_read_once_per_request(app, as_user, records):
    """The hierarchy is one query per request (cached on `g` for that request), not one per scope."""
    from tests.conftest import recorded_statements

    lead = as_user("tm_lead")
    with recorded_statements(app) as statements:
        for _ in range(2):
            html = text(lead.get("/leads/list/"))
            assert records["tm_member"].lead_name in html
    reach_reads = [s for s in statements if "lead_user_id" in s and "head_user_id" in s]
    assert len(reach_reads) == 2, reach_reads  # once in each of the two requests


def test_list_exports_follow_the_team(as_user, records):
    """CSV and XLSX exports of a list use the same row rules as the list itself."""
    import io

    import openpyxl

    lead = as_user("tm_lead")
    resp = lead.get("/customers/export/csv/")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert records["tm_member"].customer_name in body and records["tm_lead"].customer_name in body
    assert records["tm_peer"].customer_name not in body
    resp = lead.get("/leads/export/xlsx/")
    assert resp.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(resp.get_data())).active
    cells = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert records["tm_member"].lead_name in cells and records["tm_peer"].lead_name not in cells
    member = as_user("tm_member")
    body = member.get("/customers/export/csv/").get_data(as_text=True)
    assert records["tm_member"].customer_name in body and records["tm_lead"].customer_name not in body
