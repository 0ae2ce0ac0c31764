"""Password policy: length, not the username, not a common password — on every way to set one."""

from __future__ import annotations

import pytest

from app.extensions import appbuilder
from app.security import passwords
from tests.conftest import TEST_PASSWORD


@pytest.mark.parametrize(("password", "username", "fragment"), [
    ("Short-9", "bob", "至少为 10"),
    ("sales1sales1!", "sales1", "用户名"),
    ("my-SALES1-pass", "sales1", "用户名"),
    ("qwertyuiop", "bob", "过于常见"),
    ("Password123", "bob", "过于常见"),
    ("1234567890", "bob", "过于常见"),
])
def test_weak_passwords_are_refused_with_the_reason(ctx, password, username, fragment):
    found = passwords.problems(password, username)
    assert any(fragment in m for m in found), found


def test_a_reasonable_password_passes(ctx):
    assert passwords.problems("tide-lantern-47", "sales1") == []
    assert passwords.problems(TEST_PASSWORD, "clerk1") == []


def test_create_user_command_refuses_a_weak_password(app, drop_users):
    drop_users.append("weakling")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "create-user", "--username", "weakling", "--password", "weakling123",
                                 "--role", "Clerk"])
    assert result.exit_code == 1
    assert "密码不能包含用户名" in result.output
    with app.app_context():
        assert appbuilder.sm.find_user(username="weakling") is None

    result = runner.invoke(args=["crm", "create-user", "--username", "weakling", "--password", "sea-otter-fog-2",
                                 "--role", "Clerk"])
    assert result.exit_code == 0, result.output


def _add_user(client, username: str, password: str):  # noqa: ANN001, ANN202
    with client.application.app_context():
        role_id = appbuilder.sm.find_role("Clerk").id
    return client.post("/users/add", data={
        "first_name": "王", "last_name": "五", "username": username, "active": "y",
        "email": f"{username}@example.cn", "roles": [role_id], "password": password, "conf_password": password,
    })


def test_user_add_form_shows_the_policy_message_and_saves_nothing(app, as_user, drop_users):
    drop_users.append("clerk77")
    client = as_user("admin2")
    client.get("/lang/en")
    resp = _add_user(client, "clerk77", "clerk77-pass")
    assert resp.status_code == 200
    assert "must not contain the username" in resp.get_data(as_text=True)
    resp = _add_user(client, "clerk77", "short")
    assert "at least 10 characters" in resp.get_data(as_text=True)
    with app.app_context():
        assert appbuilder.sm.find_user(username="clerk77") is None
    assert _add_user(client, "clerk77", "violet-harbour-3").status_code == 302
    with app.app_context():
        assert appbuilder.sm.find_user(username="clerk77") is not None


def test_admin_reset_password_form_enforces_the_policy(app, as_user, drop_users):
    drop_users.append("clerk78")
    client = as_user("admin2")
    client.get("/lang/en")
    assert _add_user(client, "clerk78", "violet-harbour-3").status_code == 302
    with app.app_context():
        pk = appbuilder.sm.find_user(username="clerk78").id
    url = f"/resetpassword/form?pk={pk}"
    resp = client.post(url, data={"password": "clerk78-again", "conf_password": "clerk78-again"})
    assert "must not contain the username" in resp.get_data(as_text=True)
    resp = client.post(url, data={"password": "qwertyuiop123", "conf_password": "qwertyuiop123"})
    assert "too common" in resp.get_data(as_text=True)
    assert client.post(url, data={"password": "amber-kestrel-8", "conf_password": "amber-kestrel-8"}).status_code == 302
    client.get("/logout/")
    resp = client.post("/login/", data={"username": "clerk78", "password": "amber-kestrel-8"})
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"]


def test_reset_my_password_form_enforces_the_policy(as_user):
    client = as_user("clerk1")
    client.get("/lang/en")
    resp = client.post("/resetmypassword/form", data={"password": "clerk1-forever", "conf_password": "clerk1-forever"})
    body = resp.get_data(as_text=True)
    assert "must not contain the username" in body
    # Still the old password.
    client.get("/logout/")
    resp = client.post("/login/", data={"username": "clerk1", "password": TEST_PASSWORD})
    assert "/login" not in resp.headers["Location"]
