"""Knowledge-base pages: search page, article page with feedback, history, role rules in the UI."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models.kb import KbArticle
from app.services import kb
from tests.conftest import actor_for
from tests.kb.conftest import article, category


@pytest.fixture
def articles(app):  # noqa: ANN001, ANN201
    with app.app_context():
        return {
            "broadband": article("宽带无法上网怎么办", "请先重启光猫。", category_id=category("broadband.fault").id,
                                 tags="宽带,断网").id,
            "arrears": article("欠费停机如何复机", "缴清欠费后自动复机。",
                               category_id=category("billing.consultation").id).id,
            "draft": article("宽带提速（草稿）", "宽带提速方案", status="draft").id,
        }


def _result_ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'crm-kb-result" data-article-id="(\d+)"', html)}


def test_agent_searches_chinese_and_filters_by_category(as_user, articles):
    client = as_user("agent1")
    page = client.get("/kb/?q=宽带")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _result_ids(html) == {articles["broadband"]}
    arrears = client.get("/kb/?q=欠费").get_data(as_text=True)
    assert _result_ids(arrears) == {articles["arrears"]}
    assert "缴清<mark>欠费</mark>后自动复机。" in arrears
    assert _result_ids(client.get("/kb/?q=漫游").get_data(as_text=True)) == set()
    unknown = client.get("/kb/", query_string={"q": "复机", "category_id": "999999"})
    assert unknown.status_code == 200 and _result_ids(unknown.get_data(as_text=True)) == set()
    # the start page lists recent published articles only
    assert _result_ids(client.get("/kb/").get_data(as_text=True)) == {articles["broadband"], articles["arrears"]}


def test_category_filter_on_page(app, as_user, articles):
    with app.app_context():
        billing = category("billing").id
    client = as_user("agent1")
    html = client.get("/kb/", query_string={"q": "复机", "category_id": billing}).get_data(as_text=True)
    assert _result_ids(html) == {articles["arrears"]}
    with app.app_context():
        broadband = category("broadband").id
    html = client.get("/kb/", query_string={"q": "复机", "category_id": broadband}).get_data(as_text=True)
    assert _result_ids(html) == set()


def test_agent_reads_rates_but_cannot_edit_or_publish(app, as_user, articles):
    client = as_user("agent1")
    page = client.get(f"/kb/article/{articles['broadband']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "请先重启光猫。" in html and 'name="helpful"' in html and "crm-kb-move" not in html
    assert client.get(f"/kb/article/{articles['draft']}").status_code == 404
    assert client.post(f"/kb/article/{articles['broadband']}/feedback",
                       data={"helpful": "yes", "comment": "管用"}).status_code == 302
    # no write access: status change, edit form and add form are refused and change nothing
    client.post(f"/kb/article/{articles['broadband']}/status", data={"status": "archived"})
    edit = client.post(f"/kb/articles/edit/{articles['broadband']}", data={"title": "改了", "body": "改了"})
    assert edit.status_code in (302, 403, 405)
    add = client.post("/kb/articles/add", data={"title": "新", "body": "新"})
    assert add.status_code in (302, 403, 405)
    with app.app_context():
        item = db.session.get(KbArticle, articles["broadband"])
        assert (item.status, item.title, item.helpful_count) == ("published", "宽带无法上网怎么办", 1)
        assert db.session.query(KbArticle).count() == 3
    listing = client.get("/kb/articles/list/").get_data(as_text=True)
    assert "宽带无法上网怎么办" in listing and "宽带提速（草稿）" not in listing


def test_manager_writes_publishes_and_restores_via_pages(app, as_user, articles):
    client = as_user("manager")
    with app.app_context():
        cat = category("broadband.fault").id
    added = client.post("/kb/articles/add", data={"title": "光猫LOS灯红色", "body": "光纤中断，请报修。",
                                                  "category": str(cat), "tags": "光猫", "status": "draft"})
    assert added.status_code == 302
    with app.app_context():
        new = db.session.query(KbArticle).filter_by(title="光猫LOS灯红色").one()
        new_id, version = new.id, new.version
    assert client.get("/kb/?q=光猫").get_data(as_text=True).count(f'data-article-id="{new_id}"') == 0
    page = client.get(f"/kb/article/{new_id}").get_data(as_text=True)
    assert 'data-status="published"' in page
    assert client.post(f"/kb/article/{new_id}/status", data={"status": "published"}).status_code == 302
    assert new_id in _result_ids(client.get("/kb/?q=光猫").get_data(as_text=True))
    edited = client.post(f"/kb/articles/edit/{new_id}", data={
        "title": "光猫LOS灯红色怎么办", "body": "光纤中断，请报修。\n先检查尾纤。", "category": str(cat),
        "tags": "光猫", "status": "published", "version": str(version + 1)})
    assert edited.status_code == 302
    history = client.get(f"/kb/article/{new_id}/history").get_data(as_text=True)
    assert set(re.findall(r'data-revision="(\d+)"', history)) == {"1", "2", "3"}
    diff = client.get(f"/kb/article/{new_id}/history/1").get_data(as_text=True)
    assert "crm-kb-diff-add" in diff and "先检查尾纤。" in diff
    assert client.post(f"/kb/article/{new_id}/restore/1").status_code == 302
    with app.app_context():
        item = db.session.get(KbArticle, new_id)
        assert (item.title, item.revision, item.status) == ("光猫LOS灯红色", 4, "published")


def test_illegal_move_is_a_message_not_an_error(app, as_user, articles):
    client = as_user("manager")
    with app.app_context():
        kb.transition(articles["arrears"], "archived", actor_for("manager"))
    resp = client.post(f"/kb/article/{articles['arrears']}/status", data={"status": "published"},
                       follow_redirects=True)
    assert resp.status_code == 200
    with app.app_context():
        assert db.session.get(KbArticle, articles["arrears"]).status == "archived"


def test_service_menu_shows_knowledge_base(as_user, articles):
    html = as_user("agent1").get("/kb/").get_data(as_text=True)
    assert 'href="/kb/articles/list/"' in html and 'href="/kb/categories/list/"' in html
    assert as_user("clerk1").get("/kb/").status_code in (302, 403)


def test_forms_render_and_categories_are_managed_by_managers(app, as_user, articles):
    manager = as_user("manager")
    add_form = manager.get("/kb/articles/add")
    assert add_form.status_code == 200 and 'name="body"' in add_form.get_data(as_text=True)
    assert manager.get(f"/kb/articles/edit/{articles['broadband']}").status_code == 200
    assert manager.get(f"/kb/articles/show/{articles['broadband']}").status_code == 302
    with app.app_context():
        parent = category("broadband").id
    created = manager.post("/kb/categories/add", data={"code": "broadband.iptv", "name": "IPTV",
                                                       "kind": "problem", "parent": str(parent), "sort_order": "50"})
    assert created.status_code == 302
    with app.app_context():
        new_id = category("broadband.iptv").id
        assert category("broadband.iptv").parent_id == parent
    # a category cannot move below its own child: the form says so and nothing changes
    loop = manager.post(f"/kb/categories/edit/{parent}", data={
        "code": "broadband", "name": "Broadband", "kind": "business", "parent": str(new_id),
        "sort_order": "10", "version": ""})
    assert loop.status_code == 200
    assert "A category cannot be placed below itself." in loop.get_data(as_text=True) or \
        "分类不能放在它自己或其下级分类之下。" in loop.get_data(as_text=True)
    with app.app_context():
        assert category("broadband").parent_id is None
        kb.delete_category(new_id, actor_for("manager"))
    agent = as_user("agent1")
    assert agent.get("/kb/categories/list/").status_code == 200
    denied = agent.post("/kb/categories/add", data={"code": "x.y", "name": "X", "kind": "problem"})
    assert denied.status_code in (302, 403)
    with app.app_context():
        from sqlalchemy import select

        from app.models.kb import KbCategory

        assert db.session.execute(select(KbCategory).where(KbCategory.code == "x.y")).first() is None
