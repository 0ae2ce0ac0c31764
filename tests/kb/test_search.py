"""Chinese full-text search: character bigrams find a 2-character word on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from app.services import kb, kb_search
from app.services.errors import Invalid
from tests.kb.conftest import article, category


def _titles(results) -> list[str]:  # noqa: ANN001
    return [r.article.title for r in results]


def test_tokenizer_makes_cjk_bigrams_and_latin_words():
    assert kb_search.tokens("宽带欠费 FTTH光猫 5G") == ["宽带", "带欠", "欠费", "ftth", "光猫", "5g"]
    assert kb_search.tokens("Ｗｉ－Ｆｉ 卡") == ["wi", "fi", "卡"]  # full-width folded, lone character kept


def test_two_character_word_finds_articles_containing_it_and_nothing_else(ctx, actor):
    broadband = article("宽带无法上网怎么办", "请先重启光猫，检查指示灯是否正常。")
    arrears = article("欠费停机如何复机", "缴清欠费后系统会在两小时内自动复机。")
    both = article("融合套餐说明", "融合套餐包含手机、宽带和IPTV，欠费时宽带也会停用。")
    article("国际漫游资费", "出国前请开通国际漫游功能。")
    agent = actor("agent1")

    assert set(_titles(kb.search("宽带", agent))) == {broadband.title, both.title}
    assert set(_titles(kb.search("欠费", agent))) == {arrears.title, both.title}
    assert _titles(kb.search("光猫", agent)) == [broadband.title]
    # no false positives: a word that appears nowhere, or characters that appear only apart
    assert kb.search("带欠", agent) == []
    assert kb.search("积分", agent) == []
    assert kb.search("宽费", agent) == []


def test_title_matches_rank_first_and_latin_words_match_case_insensitively(ctx, actor):
    body_only = article("光猫指示灯说明", "LOS 灯红色表示光纤中断，宽带会断网。")
    in_title = article("宽带断网排查步骤", "依次检查光猫、路由器和网线。")
    assert _titles(kb.search("宽带断网", actor("agent1")))[0] == in_title.title
    assert _titles(kb.search("los", actor("agent1"))) == [body_only.title]
    assert _titles(kb.search("LOS", actor("agent1"))) == [body_only.title]


def test_longer_query_needs_most_of_its_words(ctx, actor):
    fault = article("宽带故障报修流程", "宽带出现故障时，先自助排查再报修。")
    article("手机故障处理", "手机无法开机时请检查电池。")
    # 宽带故障 → 宽带, 带故, 故障: the phone article shares only 故障
    assert _titles(kb.search("宽带故障", actor("agent1"))) == [fault.title]


def test_only_published_articles_are_found(ctx, actor):
    article("宽带提速草稿", "宽带提速方案", status="draft")
    old = article("宽带旧资费", "宽带旧资费说明")
    kb.transition(old.id, "archived", actor("manager"))
    live = article("宽带新资费", "宽带新资费说明")
    assert _titles(kb.search("宽带", actor("agent1"))) == [live.title]
    assert _titles(kb.search("宽带", actor("manager"))) == [live.title]


def test_category_filter_includes_sub_categories(ctx, actor):
    fault = article("宽带断网", "宽带断网处理", category_id=category("broadband.fault").id)
    article("账单里的宽带费", "宽带月租在账单中单列", category_id=category("billing.consultation").id)
    broadband_root = category("broadband").id
    assert _titles(kb.search("宽带", actor("agent1"), category_id=broadband_root)) == [fault.title]


def test_search_reindexes_on_edit(ctx, actor):
    a = article("路由器设置", "设置无线密码")
    assert kb.search("宽带", actor("agent1")) == []
    kb.update(a.id, {"body": "设置无线密码后宽带即可使用"}, actor("manager"))
    assert _titles(kb.search("宽带", actor("agent1"))) == [a.title]
    kb.update(a.id, {"body": "设置无线密码"}, actor("manager"))
    assert kb.search("宽带", actor("agent1")) == []


def test_empty_query_is_a_field_error(ctx, actor):
    with pytest.raises(Invalid) as err:
        kb.search("  ", actor("agent1"))
    assert "q" in err.value.errors


def test_suggest_for_ticket_text_skips_drafts_archived_and_filler(ctx, actor):
    good = article("宽带频繁断网的处理", "检查光猫和路由器，必要时上门维修。")
    article("宽带断网（草稿）", "宽带断网草稿内容", status="draft")
    old = article("宽带断网（旧版）", "宽带断网旧版内容")
    kb.transition(old.id, "archived", actor("manager"))
    article("您好，请问如何查询积分", "您好，请问积分可在营业厅查询。")
    text = "您好，请问我家宽带每天晚上都断网，已经重启过光猫了"
    suggested = kb.suggest(text, limit=5)
    assert [a.id for a in suggested] == [good.id]
    assert all(a.status == "published" for a in suggested)
    assert kb.suggest("", 5) == []


def test_one_character_query_matches_words_containing_it(ctx, actor):
    sim = article("补办SIM卡", "携带身份证到营业厅补卡。")
    article("宽带报修", "光猫故障请报修。")
    assert _titles(kb.search("卡", actor("agent1"))) == [sim.title]
