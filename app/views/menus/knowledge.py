"""Views and APIs of the knowledge area, registered with FAB."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
    from app.views.kb import KbArticleApi, KbArticleModelView, KbCategoryModelView, KbView

    # Service / 服务 (issue 4): the knowledge base (知识库) next to the tickets.
    ab.add_view(KbView, "Knowledge base", label=_l("Knowledge base"), icon="fa-book",
                category="Service", category_label=_l("Service"), category_icon="fa-headset")
    ab.add_view(KbArticleModelView, "KB articles", label=_l("KB articles"), icon="fa-file-alt", category="Service")
    ab.add_view(KbCategoryModelView, "KB categories", label=_l("KB categories"), icon="fa-sitemap",
                category="Service")
    ab.add_api(KbArticleApi)
