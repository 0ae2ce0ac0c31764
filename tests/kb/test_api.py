"""`kb_articles` API: row rules (drafts for writers), writes for managers only, search, feedback."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models.kb import KbArticle
from tests.kb.conftest import article, category


@pytest.fixture
def ids(app):  # noqa: ANN001, ANN201
    with app.app_context():
        return {
            "broadband": article("宽带无法上网怎么办", "请先重启光猫，宽带通常即可恢复。", tags="宽带").id,
            "arrears": article("欠费停机如何复机", "缴清欠费后自动复机。").id,
            "draft": article("宽带新装（草稿）", "宽带新装流程", status="draft").id,
        }


def test_search_endpoint_finds_chinese_word(client, api_token, ids):
    agent = api_token("agent1")
    resp = client.get("/api/v1/kb_articles/search", query_string={"q": "宽带"}, headers=agent)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert [r["id"] for r in body["result"]] == [ids["broadband"]] and body["count"] == 1
    assert body["result"][0]["tags"] == ["宽带"] and "宽带" in body["result"][0]["snippet"]
    none = client.get("/api/v1/kb_articles/search", query_string={"q": "漫游"}, headers=agent).get_json()
    assert none["result"] == []
    missing = client.get("/api/v1/kb_articles/search", headers=agent)
    assert missing.status_code == 422 and "q" in missing.get_json()["message"]
    bad_cat = client.get("/api/v1/kb_articles/search", query_string={"q": "宽带", "category_id": "x"},
                         headers=agent)
    assert bad_cat.status_code == 422 and "category_id" in bad_cat.get_json()["message"]


def test_agent_reads_published_only_and_cannot_write(client, api_token, ids):
    agent = api_token("agent1")
    listing = client.get("/api/v1/kb_articles/", headers=agent).get_json()
    assert {r["id"] for r in listing["result"]} == {ids["broadband"], ids["arrears"]}
    assert client.get(f"/api/v1/kb_articles/{ids['draft']}", headers=agent).status_code == 404
    assert client.get(f"/api/v1/kb_articles/{ids['broadband']}", headers=agent).get_json()["result"]["body"]
    assert client.post("/api/v1/kb_articles/", headers=agent, json={"title": "t", "body": "b"}).status_code == 403
    assert client.put(f"/api/v1/kb_articles/{ids['broadband']}", headers=agent,
                      json={"status": "archived"}).status_code == 403


def test_manager_creates_edits_and_moves_status(app, client, api_token, ids):
    manager = api_token("manager")
    with app.app_context():
        cat = category("broadband.fault").id
    created = client.post("/api/v1/kb_articles/", headers=manager, json={
        "title": "光猫重启方法", "body": "拔掉电源十秒后再插上。", "category_id": cat, "tags": "光猫, 重启"})
    assert created.status_code == 201, created.get_json()
    new = created.get_json()["result"]
    assert new["status"] == "draft" and new["tags"] == "光猫,重启" and new["revision"] == 1
    aid = created.get_json()["id"]
    # the manager's listing includes drafts
    listing = client.get("/api/v1/kb_articles/", headers=manager).get_json()
    assert {ids["draft"], aid} <= {r["id"] for r in listing["result"]}
    published = client.put(f"/api/v1/kb_articles/{aid}", headers=manager, json={"status": "published"})
    assert published.status_code == 200 and published.get_json()["result"]["revision"] == 2
    found = client.get("/api/v1/kb_articles/search", query_string={"q": "光猫"},
                       headers=api_token("agent1")).get_json()
    assert aid in [r["id"] for r in found["result"]]
    illegal = client.put(f"/api/v1/kb_articles/{ids['draft']}", headers=manager, json={"status": "bogus"})
    assert illegal.status_code == 422 and "status" in illegal.get_json()["message"]
    invalid = client.post("/api/v1/kb_articles/", headers=manager, json={"title": "", "category_id": 999999})
    assert invalid.status_code == 422
    assert {"title", "body", "category"} <= set(invalid.get_json()["message"])
    versions = client.get(f"/api/v1/kb_articles/{aid}/versions", headers=manager).get_json()
    assert [v["revision"] for v in versions["result"]] == [2, 1]
    assert [v["status"] for v in versions["result"]] == ["published", "draft"]
    client.put(f"/api/v1/kb_articles/{aid}", headers=manager, json={"body": "先检查电源。"})
    assert client.post(f"/api/v1/kb_articles/{aid}/versions/1/restore",
                       headers=api_token("agent1")).status_code == 403
    restored = client.post(f"/api/v1/kb_articles/{aid}/versions/1/restore", headers=manager)
    assert restored.status_code == 200, restored.get_json()
    assert restored.get_json()["result"]["body"] == "拔掉电源十秒后再插上。"
    assert restored.get_json()["result"]["revision"] == 4
    assert client.post(f"/api/v1/kb_articles/{aid}/versions/99/restore", headers=manager).status_code == 404


def test_feedback_endpoint_counts_votes(app, client, api_token, ids):
    url = f"/api/v1/kb_articles/{ids['broadband']}/feedback"
    first = client.post(url, headers=api_token("agent1"), json={"helpful": True, "comment": "有用"})
    assert first.status_code == 200, first.get_json()
    client.post(url, headers=api_token("agent2"), json={"helpful": False})
    again = client.post(url, headers=api_token("agent1"), json={"helpful": True})
    assert (again.get_json()["helpful_count"], again.get_json()["not_helpful_count"]) == (1, 1)
    assert client.post(f"/api/v1/kb_articles/{ids['draft']}/feedback", headers=api_token("agent1"),
                       json={"helpful": True}).status_code == 404
    bad = client.post(url, headers=api_token("agent1"), json={"comment": "x"})
    assert bad.status_code == 422 and "helpful" in bad.get_json()["message"]
    with app.app_context():
        assert db.session.get(KbArticle, ids["broadband"]).helpful_count == 1


def test_openapi_describes_the_search_endpoint(client, api_token):
    spec = client.get("/api/v1/_openapi", headers=api_token("admin2"))
    assert spec.status_code == 200
    paths = spec.get_json()["paths"]
    assert "/api/v1/kb_articles/search" in paths and "/api/v1/kb_articles/{pk}/feedback" in paths
