"""Saved views: save, apply, pin (home-page count with row rules), share with the department."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.saved_view import SavedView
from app.services import saved_views
from app.services.errors import Forbidden, NotFound
from tests.bulk.conftest import city_arg, make_customers
from tests.conftest import actor_for


def _pinned_count(page: str, view_id: int) -> str:
    match = re.search(rf'<tr data-view="{view_id}">.*?crm-pinned-count">([^<]+)<', page, re.S)
    assert match, "view not on the home page"
    return match.group(1)


def test_save_apply_pin_and_home_count(app, as_user):
    with app.app_context():
        make_customers(7, "杭州", owner="sales1")
        make_customers(3, "杭州", owner="sales2")
        make_customers(2, "北京", owner="sales1")
        arg = city_arg("杭州")
    c = as_user("sales1")
    query = (f"{arg}&_oc_CustomerModelView=name&_od_CustomerModelView=asc&psize_CustomerModelView=25"
             "&page_CustomerModelView=2")
    saved = c.post("/customers/views/save", data={"name": "杭州客户", "query": query})
    assert saved.status_code == 302
    with app.app_context():
        view = db.session.execute(select(SavedView)).scalar_one()
        view_id, args = view.id, dict(saved_views.args_of(view))
    assert "page_CustomerModelView" not in args and args["_od_CustomerModelView"] == "asc"
    listing = c.get("/customers/list/").get_data(as_text=True)
    assert f'href="/customers/views/{view_id}/"' in listing and "杭州客户" in listing
    applied = c.get(f"/customers/views/{view_id}/")
    assert applied.status_code == 302 and unquote(arg).split("=")[0] in unquote(applied.headers["Location"])
    assert "杭州" in unquote(applied.headers["Location"])
    assert c.post(f"/customers/views/{view_id}/pin", data={"on": "1"}).status_code == 302
    home = c.get("/").get_data(as_text=True)
    assert _pinned_count(home, view_id) == "7"  # sales1's own rows only
    c.post(f"/customers/views/{view_id}/pin", data={"on": "0", "next": "home"})
    assert f'<tr data-view="{view_id}">' not in c.get("/").get_data(as_text=True)


def test_shared_view_reaches_the_department_with_each_users_rows(app, as_user):
    with app.app_context():
        make_customers(4, "杭州", owner="sales1")
        make_customers(2, "杭州", owner="sales2")
        arg = city_arg("杭州")
    c = as_user("sales1")
    c.post("/customers/views/save", data={"name": "private", "query": arg})
    c.post("/customers/views/save", data={"name": "team", "query": arg, "shared": "1"})
    with app.app_context():
        ids = dict(db.session.execute(select(SavedView.name, SavedView.id)).all())
    other = as_user("sales2")  # same department (sales)
    listing = other.get("/customers/list/").get_data(as_text=True)
    assert f"/customers/views/{ids['team']}/" in listing and f"/customers/views/{ids['private']}/" not in listing
    assert other.get(f"/customers/views/{ids['private']}/").status_code == 404
    assert other.post(f"/customers/views/{ids['team']}/pin", data={"on": "1"}).status_code == 302
    assert _pinned_count(other.get("/").get_data(as_text=True), ids["team"]) == "2"  # sales2's rows
    # Only the owner may unshare or delete.
    other.post(f"/customers/views/{ids['team']}/share", data={"on": "0"})
    other.post(f"/customers/views/{ids['team']}/delete")
    with app.app_context():
        assert db.session.get(SavedView, ids["team"]).shared is True
    agent = as_user("agent1")  # another department
    assert agent.get(f"/customers/views/{ids['team']}/").status_code == 404


def test_service_rules(ctx):
    sales1, sales2, agent = actor_for("sales1"), actor_for("sales2"), actor_for("agent1")
    view = saved_views.save(sales1, "CustomerModelView", "mine", [("_flt_0_name", "x"), ("evil", "1")])
    assert saved_views.args_of(view) == [("_flt_0_name", "x")]
    again = saved_views.save(sales1, "CustomerModelView", "mine", [("_flt_0_name", "y")])
    assert again.id == view.id and saved_views.args_of(again) == [("_flt_0_name", "y")]
    with pytest.raises(NotFound):
        saved_views.get(view.id, sales2)
    saved_views.set_shared(view.id, sales1, True)
    assert saved_views.get(view.id, sales2).id == view.id
    with pytest.raises(NotFound):
        saved_views.get(view.id, agent)
    with pytest.raises(Forbidden):
        saved_views.delete(view.id, sales2)
    saved_views.set_pinned(view.id, sales2, True)
    assert [v.id for v in saved_views.pinned(sales2)] == [view.id]
    saved_views.set_shared(view.id, sales1, False)
    assert saved_views.pinned(sales2) == []  # no longer visible, so no longer on their home page
    saved_views.delete(view.id, sales1)
    assert saved_views.for_list(sales1, "CustomerModelView") == []


def test_column_choice_is_part_of_a_saved_view(app, as_user):
    with app.app_context():
        make_customers(2, "杭州", owner="sales1")
    c = as_user("sales1")
    full = c.get("/customers/list/").get_data(as_text=True)
    narrow = c.get("/customers/list/?cols_CustomerModelView=name&cols_CustomerModelView=city").get_data(as_text=True)
    assert "杭州" in narrow and "138****" in full and "138****" not in narrow  # the masked mobile column is gone
    c.post("/customers/views/save", data={"name": "narrow", "query": "cols_CustomerModelView=name,city"})
    with app.app_context():
        view = db.session.execute(select(SavedView)).scalar_one()
        assert saved_views.args_of(view) == [("cols_CustomerModelView", "name,city")]
        view_id = view.id
    applied = c.get(f"/customers/views/{view_id}/", follow_redirects=True).get_data(as_text=True)
    assert "138****" not in applied and "杭州" in applied


def test_shared_view_reaches_the_team_and_follows_a_move(ctx):
    from app.models.team import Team
    from app.models.user import CrmUser
    from tests.bulk.conftest import user_id

    team = Team(name="华东大客户组")
    db.session.add(team)
    db.session.commit()
    members = [db.session.get(CrmUser, user_id(u)) for u in ("sales1", "clerk1")]
    try:
        for user in members:
            user.team_id = team.id
        db.session.commit()
        view = saved_views.save(actor_for("sales1"), "CustomerModelView", "team view", [], shared=True)
        clerk = actor_for("clerk1")  # no department: sees it through the team only
        assert saved_views.get(view.id, clerk).id == view.id
        members[1].team_id = None  # moved out of the team: the view is gone at once
        db.session.commit()
        with pytest.raises(NotFound):
            saved_views.get(view.id, clerk)
    finally:
        for user in members:
            user.team_id = None
        db.session.commit()
