"""Views and APIs of the messaging area, registered with FAB."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


def register(ab: Any) -> None:
    """Add this area's views, links and APIs to the app builder."""
    from app.views.messaging import MessagePreviewView, MessageTemplateModelView, OutboxView

    # Messages / 消息: the outbox (every message and its state) and the templates managers edit.
    ab.add_view(OutboxView, "Outbox", label=_l("Outbox"), icon="fa-paper-plane", category="Messages",
                category_label=_l("Messages"), category_icon="fa-envelope")
    ab.add_view(MessageTemplateModelView, "Message templates", label=_l("Message templates"), icon="fa-file-alt",
                category="Messages")
    ab.add_view_no_menu(MessagePreviewView)
