"""Administrators: every page, user administration with departments, department upkeep."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import appbuilder, db
from app.models.department import Department
from app.security.roles import ROLES, offered_permissions


def test_admin_reaches_every_registered_page(as_user):
    client = as_user("admin2")
    for url in ("/customers/list/", "/subscriptions/list/", "/plans/list/", "/value-added-services/list/",
                "/bills/list/", "/payments/list/", "/usage/list/", "/business-changes/list/", "/audit-log/list/",
                "/departments/list/", "/users/list/", "/roles/list/"):
        assert client.get(url).status_code == 200, url


def test_admin_creates_user_in_a_department(as_user, ctx):
    client = as_user("admin2")
    tech = db.session.execute(select(Department).where(Department.code == "technical")).scalar_one()
    agent_role = appbuilder.sm.find_role("Agent")
    resp = client.post("/users/add", data={
        "first_name": "王", "last_name": "五", "username": "agent9", "active": "y", "email": "agent9@example.cn",
        "department": tech.id, "roles": [agent_role.id], "password": "Long-enough-9", "conf_password": "Long-enough-9",
    })
    assert resp.status_code == 302
    user = appbuilder.sm.find_user(username="agent9")
    assert user.department_id == tech.id and [r.name for r in user.roles] == ["Agent"]


def test_non_admins_cannot_administer_users_or_departments(as_user):
    for username in ("manager", "sales1", "agent1", "clerk1"):
        client = as_user(username)
        for url in ("/users/list/", "/departments/list/", "/roles/list/"):
            resp = client.get(url)
            assert resp.status_code in (302, 403), (username, url)


def test_roles_hold_only_permissions_their_views_offer(ctx):
    offered = offered_permissions(appbuilder)
    for name in ROLES[1:]:
        role = appbuilder.sm.find_role(name)
        for pv in role.permissions:
            view, perm = pv.view_menu.name, pv.permission.name
            if perm != "menu_access" and view in offered:
                assert perm in offered[view], (name, perm, view)


def test_duplicate_mobile_on_the_form_links_to_the_existing_customer(as_user, actor):
    from tests.factories import customer_data, make_customer

    existing = make_customer(actor("clerk1"))
    client = as_user("clerk1")
    data = customer_data(mobile=existing.mobile)
    resp = client.post("/customers/add", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert f'href="/customer360/{existing.id}"' in html
    assert data["address"] in html  # what the clerk typed is still on the form


def test_editing_a_plan_without_changing_its_code_saves(as_user, actor):
    from app.models.plan import Plan
    from tests.factories import make_plan

    plan = make_plan(actor("manager"))
    client = as_user("manager")
    form = {"code": plan.code, "name": "新名字套餐", "plan_type": "mobile", "monthly_fee": "88.00",
            "voice_minutes": "500", "sms_count": "100", "data_mb": "30720", "voice_overage_rate": "0.15",
            "data_overage_rate": "5.00", "active": "y", "version": str(plan.version)}
    resp = client.post(f"/plans/edit/{plan.id}", data=form)
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Plan, plan.id).name == "新名字套餐"
