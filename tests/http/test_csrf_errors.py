"""A form sent without a valid CSRF token is refused with a message the user can act on."""

from __future__ import annotations

from tests.http.test_masking import csrf_on


def test_expired_form_goes_back_to_the_page_with_a_message(app, as_user):
    client = as_user("clerk1")
    with csrf_on(app):
        resp = client.post("/customers/add", data={"name": "张三"},
                           headers={"Referer": "http://localhost/customers/add"})
        assert resp.status_code == 302
        assert resp.headers["Location"].endswith("/customers/add")
        page = client.get("/customers/add").get_data(as_text=True)
    assert "表单已过期" in page


def test_ajax_post_without_token_gets_json_naming_the_problem(app, as_user):
    client = as_user("clerk1")
    with csrf_on(app):
        resp = client.post("/customer360/1/reveal", headers={"X-CSRFToken": "forged",
                                                             "Accept": "application/json"})
    assert resp.status_code == 400
    assert "表单已过期" in resp.get_json()["message"]


def test_bad_page_argument_is_explained_in_the_users_language(as_user):
    client = as_user("clerk1")
    resp = client.get("/customers/list/?page_CustomerModelView=abc", headers={"Accept": "application/json"})
    assert resp.status_code == 400
    assert "页码" in resp.get_json()["message"]
