"""Knowledge-base full-text search that works for Chinese on SQLite and PostgreSQL alike.

Text is cut into tokens by one tokenizer for indexing and querying:

- runs of CJK characters become overlapping character bigrams ("宽带欠费" → 宽带, 带欠, 欠费); a
  lone CJK character is kept as a unigram;
- runs of Latin letters and digits become lowercased words ("FTTH", "5G", "10086").

Tokens go into `kb_token (article_id, field, token)` with an index on `(token, article_id)`.
A query's tokens are looked up there; articles are ranked by how many distinct query tokens they
contain, title/tag matches counting extra. A 2-character word such as 宽带 is exactly one bigram,
so it finds every article containing it and nothing else.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, delete, func, insert, or_, select

from app.extensions import db
from app.models.kb import KbArticle, KbToken

MAX_TOKEN = 32
# A query never looks up more tokens than this (a long ticket text keeps its first distinct ones).
MAX_QUERY_TOKENS = 64

# CJK Unified Ideographs (+ extension A, compatibility ideographs), kana and hangul are "CJK" here.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_RUN = re.compile(f"([{_CJK}]+)|([0-9a-z]+)")

# Bigrams that carry no topic in a ticket's free text (greetings, pronouns, filler). Only
# `suggest` drops them: an explicit search for one still works.
STOP_BIGRAMS = frozenset({
    "您好", "你好", "请问", "谢谢", "我们", "你们", "他们", "我的", "你的", "他的", "可以", "没有",
    "一个", "什么", "这个", "那个", "怎么", "如何", "已经", "就是", "不是", "还是", "但是", "因为",
    "所以", "如果", "现在", "今天", "昨天", "一下", "一直", "时候", "问题", "客户", "用户", "需要",
    "希望", "要求", "反映", "情况", "处理", "联系", "电话", "的话", "了一", "是否", "麻烦", "帮忙",
    "帮我", "一些", "感谢",
})


def normalize(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def tokens(text: str | None) -> list[str]:
    """The text's tokens in order of appearance (with repeats)."""
    out: list[str] = []
    for cjk, word in _RUN.findall(normalize(text)):
        if cjk:
            if len(cjk) == 1:
                out.append(cjk)
            else:
                out.extend(cjk[i:i + 2] for i in range(len(cjk) - 1))
        elif word:
            out.append(word[:MAX_TOKEN])
    return out


def distinct(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def query_tokens(text: str | None, *, drop_stop: bool = False) -> list[str]:
    found = distinct(tokens(text))
    if drop_stop:
        found = [t for t in found if t not in STOP_BIGRAMS]
    return found[:MAX_QUERY_TOKENS]


def reindex(article: KbArticle) -> None:
    """Replace the article's tokens (inside the caller's transaction)."""
    db.session.flush()
    db.session.execute(delete(KbToken).where(KbToken.article_id == article.id))
    title_text = " ".join([article.title or "", (article.tags or "").replace(",", " ")])
    rows = [{"article_id": article.id, "field": "t", "token": t} for t in distinct(tokens(title_text))]
    rows += [{"article_id": article.id, "field": "b", "token": t} for t in distinct(tokens(article.body))]
    if rows:
        db.session.execute(insert(KbToken), rows)


@dataclass(frozen=True)
class Hit:
    article_id: int
    matched: int  # distinct query tokens found anywhere in the article
    title_matched: int  # … of which in the title or tags
    score: float


def required_matches(n: int) -> int:
    """How many of a search's `n` distinct tokens an article must contain: all of one or two,
    then 60% (a bigram spanning two words, e.g. 带故 in 宽带故障, rarely occurs in an article)."""
    return n if n <= 2 else math.ceil(n * 0.6)


def find(query_toks: list[str], *, min_matches: int, statuses: tuple[str, ...] = ("published",),
         category_ids: list[int] | None = None, limit: int = 20, offset: int = 0,
         extra_where: list | None = None) -> list[Hit]:
    """Articles containing at least `min_matches` of the tokens, best first."""
    if not query_toks:
        return []
    token_filter = [KbToken.token.in_([t for t in query_toks if len(t) > 1 or not _is_cjk(t)])]
    # A lone CJK character (a one-character query) matches every bigram that contains it.
    for t in query_toks:
        if len(t) == 1 and _is_cjk(t):
            token_filter += [KbToken.token == t, KbToken.token.like(f"{t}_"), KbToken.token.like(f"_{t}")]
    matched_key = _matched_key(query_toks)
    matched = func.count(func.distinct(matched_key)).label("matched")
    title_matched = func.count(func.distinct(case((KbToken.field == "t", matched_key)))).label("title_matched")
    stmt = (
        select(KbToken.article_id, matched, title_matched)
        .join(KbArticle, KbArticle.id == KbToken.article_id)
        .where(or_(*token_filter), KbArticle.status.in_(statuses))
        .group_by(KbToken.article_id, KbArticle.updated_at)
        .having(func.count(func.distinct(matched_key)) >= min_matches)
        .order_by((matched * 2 + title_matched).desc(), KbArticle.updated_at.desc(), KbToken.article_id.desc())
        .limit(limit).offset(offset)
    )
    if category_ids is not None:
        stmt = stmt.where(KbArticle.category_id.in_(category_ids or [-1]))
    for clause in extra_where or []:
        stmt = stmt.where(clause)
    return [Hit(r.article_id, r.matched, r.title_matched, r.matched * 2 + r.title_matched)
            for r in db.session.execute(stmt)]


def _matched_key(query_toks: list[str]):  # noqa: ANN202 - a SQL expression
    """Which query token a row stands for: itself, or the lone character it contains."""
    singles = [t for t in query_toks if len(t) == 1 and _is_cjk(t)]
    if not singles:
        return KbToken.token
    whens = [(or_(KbToken.token == t, KbToken.token.like(f"{t}_"), KbToken.token.like(f"_{t}")), t)
             for t in singles]
    return case(*whens, else_=KbToken.token)


def _is_cjk(token: str) -> bool:
    return bool(re.fullmatch(f"[{_CJK}]+", token))


def snippet(body: str | None, query_toks: list[str], width: int = 60) -> tuple[str, str, str]:
    """(before, match, after) around the first query token in the body, for highlighting."""
    text = body or ""
    low = normalize(text)
    best = None
    for t in query_toks:
        pos = low.find(t)
        if pos >= 0 and (best is None or pos < best[0]):
            best = (pos, len(t))
    if best is None or len(low) != len(text):  # NFKC changed lengths: no reliable offsets
        return (text[: width * 2], "", "…" if len(text) > width * 2 else "")
    pos, n = best
    start = max(0, pos - width)
    end = min(len(text), pos + n + width)
    return (("…" if start else "") + text[start:pos], text[pos:pos + n],
            text[pos + n:end] + ("…" if end < len(text) else ""))
