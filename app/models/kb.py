"""Knowledge base (知识库): a category tree, articles with tags, status and version history,
usefulness feedback, and the search token table.

- `KbCategory` is one self-referencing tree: business types (套餐, 宽带, 账单 …) at the top, problem
  types (故障, 咨询, 投诉 …) below each. Shipped categories store English msgids as their name.
- `KbArticle.status` is draft → published → archived (legal moves in `app.services.kb`); every
  change saves a `KbArticleVersion` snapshot (`revision` 1, 2, …), which can be viewed, compared
  and restored.
- `KbToken` holds the article's search tokens (CJK character bigrams + lowercased Latin/digit
  words, see `app.services.kb_search`) per field: the same query on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import TimestampMixin, utcnow
from app.models.user import CrmUser

ARTICLE_STATUSES = ("draft", "published", "archived")
CATEGORY_KINDS = ("business", "problem")
# Token fields: "t" title and tags (boosted), "b" body.
TOKEN_FIELDS = ("t", "b")


class KbCategory(Model):
    __tablename__ = "kb_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), nullable=False, unique=True)
    # Shipped categories store an English msgid here; pages translate it.
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="business")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("kb_category.id"), index=True)
    parent: Mapped[KbCategory | None] = relationship("KbCategory", remote_side="KbCategory.id",
                                                     back_populates="children")
    children: Mapped[list[KbCategory]] = relationship("KbCategory", back_populates="parent",
                                                      order_by="KbCategory.sort_order")
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def label(self) -> str:
        from flask_babel import gettext

        return gettext(self.name) if self.name else ""

    def path_label(self) -> str:
        """"Broadband / Fault" — the category with its ancestors, translated."""
        parts = []
        node: KbCategory | None = self
        seen: set[int] = set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            parts.append(node.label())
            node = node.parent
        return " / ".join(reversed(parts))

    def __repr__(self) -> str:
        return self.path_label()


class KbArticle(TimestampMixin, Model):
    __tablename__ = "kb_article"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("kb_category.id"))
    category: Mapped[KbCategory | None] = relationship(KbCategory)
    # Normalised, comma-separated ("宽带,欠费,停机"); each tag is also indexed for search.
    tags: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    author: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[author_id])
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    updated_by: Mapped[CrmUser | None] = relationship(CrmUser, foreign_keys=[updated_by_id])
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The resolved ticket this article was written from (no FK: tickets are another area's table).
    source_ticket_id: Mapped[int | None] = mapped_column(Integer, index=True)
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    helpful_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    not_helpful_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_kb_article_status_category", "status", "category_id"),
        {"extend_existing": True},
    )

    @property
    def tag_list(self) -> list[str]:
        return [t for t in (self.tags or "").split(",") if t]

    @property
    def status_label(self) -> str:
        from app.services.kb import status_label

        return status_label(self.status)

    @property
    def url(self) -> str:
        """The article's read page (`KbView.article`), e.g. for suggestions on a ticket."""
        return f"/kb/article/{self.id}"

    @property
    def category_label(self) -> str:
        return self.category.path_label() if self.category is not None else ""

    def __repr__(self) -> str:
        return self.title


class KbArticleVersion(Model):
    __tablename__ = "kb_article_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id"), nullable=False)
    article: Mapped[KbArticle] = relationship(KbArticle)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    category_id: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    # What happened: created, edited, status, restored (msgid-free codes; pages label them).
    change: Mapped[str] = mapped_column(String(16), nullable=False, default="edited")
    note: Mapped[str | None] = mapped_column(String(255))
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    editor: Mapped[CrmUser | None] = relationship(CrmUser)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("article_id", "revision", name="uq_kb_article_version_revision"),
        {"extend_existing": True},
    )


class KbFeedback(Model):
    """One vote per user and article ("was this helpful?"); voting again replaces the vote."""

    __tablename__ = "kb_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    user: Mapped[CrmUser] = relationship(CrmUser)
    helpful: Mapped[bool] = mapped_column(Boolean, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("article_id", "user_id", name="uq_kb_feedback_article_user"),
        {"extend_existing": True},
    )


class KbToken(Model):
    """Search index: one row per (article, field, token)."""

    __tablename__ = "kb_token"

    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id"), primary_key=True)
    field: Mapped[str] = mapped_column(String(1), primary_key=True)
    token: Mapped[str] = mapped_column(String(32), primary_key=True)

    __table_args__ = (
        Index("ix_kb_token_token_article", "token", "article_id"),
        {"extend_existing": True},
    )
