"""Article life cycle: legal status moves, a version for every change, diff and restore, feedback."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit_log import AuditLog
from app.models.kb import KbArticle, KbFeedback
from app.services import kb
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from tests.kb.conftest import article, category


def test_shipped_category_tree_is_business_type_by_problem_type(ctx):
    broadband = category("broadband")
    assert broadband.parent_id is None and broadband.kind == "business"
    fault = category("broadband.fault")
    assert fault.parent_id == broadband.id and fault.kind == "problem"
    assert fault.path_label() in ("Broadband / Faults", "宽带 / 故障")
    assert set(kb.descendant_ids(broadband.id)) == {broadband.id} | {c.id for c in broadband.children}
    assert kb.ensure_defaults() == 0  # idempotent


def test_every_edit_saves_a_version_and_old_versions_can_be_restored(ctx, actor):
    manager = actor("manager")
    a = article("宽带报修", "第一版内容", status="draft", tags="宽带, 报修，宽带",
                category_id=category("broadband.fault").id)
    assert a.tags == "宽带,报修" and a.revision == 1 and a.author_id == manager.id
    kb.update(a.id, {"body": "第二版内容\n新增一行"}, manager)
    kb.update(a.id, {"title": "宽带报修流程"}, manager)
    kb.transition(a.id, "published", manager)
    history = kb.versions(a.id, manager)
    assert [(v.revision, v.change) for v in history] == [(4, "status"), (3, "edited"), (2, "edited"),
                                                         (1, "created")]
    assert history[-1].body == "第一版内容" and history[-1].status == "draft"
    assert history[0].status == "published" and a.published_at is not None

    lines = kb.diff(a.id, 1, None, manager)
    assert ("del", "第一版内容") in [(line.kind, line.text) for line in lines]
    assert ("add", "新增一行") in [(line.kind, line.text) for line in lines]

    restored = kb.restore(a.id, 1, manager)
    assert (restored.title, restored.body, restored.revision, restored.status) == ("宽带报修", "第一版内容", 5,
                                                                                   "published")
    assert kb.versions(a.id, manager)[0].change == "restored"
    # an unchanged save is no new version
    kb.update(a.id, {"title": "宽带报修"}, manager)
    assert db.session.get(KbArticle, a.id).revision == 5
    assert db.session.execute(select(func.count()).select_from(AuditLog)
                              .where(AuditLog.entity == "kb_article")).scalar() == 5


def test_status_moves_follow_the_life_cycle(ctx, actor):
    manager = actor("manager")
    a = article("复机说明", "缴费后自动复机", status="draft")
    kb.transition(a.id, "archived", manager)
    with pytest.raises(Invalid) as err:
        kb.transition(a.id, "published", manager)  # archived must go back to draft first
    assert "status" in err.value.errors
    db.session.rollback()
    assert db.session.get(KbArticle, a.id).status == "archived"
    kb.transition(a.id, "draft", manager)
    kb.transition(a.id, "published", manager)
    with pytest.raises(Invalid):
        kb.transition(a.id, "deleted", manager)
    with pytest.raises(Invalid):
        kb.create({"title": "x", "body": "y", "status": "archived"}, manager)


def test_agents_read_published_only_and_cannot_write(ctx, actor):
    agent = actor("agent1")
    draft = article("草稿", "内容", status="draft")
    live = article("已发布", "内容")
    assert kb.get(live.id, agent).id == live.id
    with pytest.raises(NotFound):
        kb.get(draft.id, agent)
    with pytest.raises(Forbidden):
        kb.create({"title": "t", "body": "b"}, agent)
    with pytest.raises(Forbidden):
        kb.update(live.id, {"title": "改"}, agent)
    with pytest.raises(Forbidden):
        kb.transition(live.id, "archived", agent)
    with pytest.raises(Forbidden):
        kb.restore(live.id, 1, agent)
    assert db.session.get(KbArticle, live.id).title == "已发布"


def test_field_errors_and_stale_version(ctx, actor):
    manager = actor("manager")
    with pytest.raises(Invalid) as err:
        kb.create({"title": "", "body": "", "category_id": 999999}, manager)
    assert {"title", "body"} <= set(err.value.errors)
    with pytest.raises(Invalid) as err:
        kb.create({"title": "t", "body": "b", "category_id": 999999, "tags": "x" * 40}, manager)
    assert {"category", "tags"} <= set(err.value.errors)
    a = article("标题", "内容")
    with pytest.raises(Conflict):
        kb.update(a.id, {"title": "新标题"}, manager, version=a.version + 5)


def test_feedback_is_counted_once_per_person(ctx, actor):
    a = article("宽带测速", "使用测速网站测速")
    kb.feedback(a.id, "yes", "有用", actor("agent1"))
    kb.feedback(a.id, True, None, actor("agent2"))
    item = kb.feedback(a.id, "no", "步骤不全", actor("manager"))
    assert (item.helpful_count, item.not_helpful_count) == (2, 1)
    # agent1 changes their mind: the vote moves, it is not counted twice
    item = kb.feedback(a.id, "no", "其实没用", actor("agent1"))
    assert (item.helpful_count, item.not_helpful_count) == (1, 2)
    assert db.session.execute(select(func.count()).select_from(KbFeedback)).scalar() == 3
    with pytest.raises(Invalid) as err:
        kb.feedback(a.id, None, None, actor("agent1"))
    assert "helpful" in err.value.errors
    draft = article("草稿", "内容", status="draft")
    with pytest.raises(NotFound):
        kb.feedback(draft.id, "yes", None, actor("agent1"))


def test_demo_articles_are_searchable_and_seeded_once(ctx, actor):
    assert kb.seed_demo_articles() == len(kb.DEMO_ARTICLES)
    assert kb.seed_demo_articles() == 0
    titles = [r.article.title for r in kb.search("欠费", actor("agent1"))]
    assert "欠费停机后如何复机" in titles
    assert "如何变更套餐" not in titles
