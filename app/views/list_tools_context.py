"""Template helpers of the list tools: what `crm/_list_bulk.html`, `crm/_list_saved_views.html` and
`crm/_home_pinned.html` show (registered as Jinja globals by `app/views/menus/bulk.py`)."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.extensions import appbuilder
from app.security.current import current_actor
from app.services import bulk, saved_views
from app.views.datamodel import count_cap


def _view_named(name: str) -> Any:
    from app.views.list_tools import ListToolsMixin

    for view in appbuilder.baseviews:
        if view.__class__.__name__ == name and isinstance(view, ListToolsMixin):
            return view
    return None


def _may(view: Any, permission: str) -> bool:
    return permission in (view.base_permissions or []) and appbuilder.sm.has_access(
        permission, view.class_permission_name)


def list_tools() -> dict[str, Any]:
    """Bulk-action link and saved views of the list page being rendered (once per request: the
    list template includes two partials that both ask)."""
    cached = request.environ.get("crm.list_tools")
    if cached is None:
        cached = request.environ["crm.list_tools"] = _list_tools()
    return cached


def _list_tools() -> dict[str, Any]:
    name = (request.endpoint or "").split(".")[0]
    view = _view_named(name)
    if view is None or not current_user.is_authenticated:
        return {}
    actor = current_actor()
    query = request.query_string.decode("utf-8", "replace")
    suffix = f"?{query}" if query else ""
    can_bulk = bulk.target_for_model(view.datamodel.obj) is not None and _may(view, "can_change")
    views = saved_views.for_list(actor, name)
    cols_arg = f"cols_{name}"
    chosen = view.chosen_columns() or list(view.list_columns or [])
    columns = [(c, str(view.label_columns.get(c, c)), c in chosen) for c in view.list_columns or []]
    keep = [(k, v) for k in request.args if k != cols_arg for v in request.args.getlist(k)]
    return {
        "columns": columns,
        "cols_arg": cols_arg,
        "keep_args": keep,
        "list_url": url_for(f"{name}.list"),
        "view_name": name,
        "query": query,
        "bulk_url": url_for(f"{name}.bulk_form") + suffix if can_bulk else None,
        "save_url": url_for(f"{name}.views_save"),
        "views": views,
        "pinned_ids": saved_views.pinned_ids(actor) if views else set(),
        "user_id": actor.id,
        "url": lambda endpoint, **kw: url_for(f"{name}.{endpoint}", **kw),
    }


def pinned_views() -> list[dict[str, Any]]:
    """Each pinned view the user may still open, with the count its list shows now."""
    if not current_user.is_authenticated:
        return []
    cap = count_cap()
    out = []
    for saved in saved_views.pinned(current_actor()):
        view = _view_named(saved.view_name)
        if view is None or not _may(view, "can_list"):
            continue
        count = _count(view, saved_views.args_of(saved))
        out.append({
            "id": saved.id, "name": saved.name, "list_title": str(view.list_title or view.__class__.__name__),
            "count": count, "count_text": f"{cap}+" if count > cap else str(count),
            "url": url_for(f"{saved.view_name}.views_apply", view_id=saved.id),
            "unpin_url": url_for(f"{saved.view_name}.views_pin", view_id=saved.id),
            "shared_by": None if saved.user_id == current_user.id else saved.user.username,
        })
    return out


def _count(view: Any, args: list[tuple[str, str]]) -> int:
    from app.views.list_tools import list_count

    return list_count(view, MultiDict(args))
