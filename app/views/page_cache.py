"""Page fragments that are the same for everyone with the same permissions, rendered once per process.

The navigation bar is about a fifth of every page's time: FAB renders each menu item with a
permission check, a `url_for` and a translation (~60 items), although the result depends only on
the language, the user's name and what their roles may see. It is cached per
(language, user, `CrmSecurityManager.access_fingerprint()`): the fingerprint holds the permission
sets themselves, so editing a role's permissions changes the key at once, in every process, and
there is nothing to invalidate. Stale entries just age out (least recently used first).

Used from templates as a call block:

    {% call crm_cached(crm_navbar_key()) %}{% include 'appbuilder/navbar.html' %}{% endcall %}

A key of `None` renders the block uncached.

The list pages' search form (`CrmSearchWidget`, app/views/widgets.py) is cached the same way, per
view, language and the generation of the tables its drop-downs list (plans, users, departments…):
a commit in this process that touches one of them starts a new generation; other processes' changes
show within `SEARCH_FORM_TTL` seconds (a renamed plan in a filter's drop-down, nothing else).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import Flask, current_app, g, session
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session

MAX_ENTRIES = 512
SEARCH_FORM_TTL = 30.0

_entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
_lock = threading.Lock()
_generation: Counter[type] = Counter()


def get(key: Hashable, build: Callable[[], Any], ttl: float | None = None) -> Any:
    """The value cached under `key`, built by `build()` when missing or older than `ttl` seconds."""
    now = time.monotonic()
    with _lock:
        held = _entries.get(key)
        if held is not None and (ttl is None or now - held[0] < ttl):
            _entries.move_to_end(key)
            return held[1]
    value = build()  # built outside the lock: two first requests may both build
    with _lock:
        _entries[key] = (now, value)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def cached(key: Hashable | None, caller: Callable[[], Markup]) -> Markup:
    # `caller` is the call block's body: Jinja returns it escaped already (Markup).
    return caller() if key is None else get(key, caller)


def generation(*models: type) -> tuple[int, ...]:
    """How many commits of this process have touched each model's rows (the key of what lists them)."""
    return tuple(_generation[m] for m in models)


@event.listens_for(Session, "after_flush")
def _note_touched(sess: Session, _flush_context: Any) -> None:
    touched = sess.info.setdefault("crm_touched_models", set())
    touched.update(type(obj) for obj in (*sess.new, *sess.dirty, *sess.deleted))


@event.listens_for(Session, "after_commit")
def _bump(sess: Session) -> None:
    # After the commit, not at the flush: a page built between the two would cache the old rows
    # under the new generation.
    touched = sess.info.pop("crm_touched_models", ())
    if touched:
        with _lock:
            for model in touched:
                _generation[model] += 1


@event.listens_for(Session, "after_rollback")
def _forget(sess: Session) -> None:
    sess.info.pop("crm_touched_models", None)


def navbar_key() -> Hashable | None:
    sm = current_app.appbuilder.sm
    fingerprint = getattr(sm, "access_fingerprint", None)
    if fingerprint is None:
        return None
    user = g.get("user")
    who = (user.id, user.get_full_name()) if user is not None and getattr(user, "is_authenticated", False) else None
    # FAB's language menu reads the session's choice; the labels follow the request's locale.
    return ("navbar", str(get_locale()), session.get("locale"), who, fingerprint())


def clear() -> None:
    with _lock:
        _entries.clear()


def install(app: Flask) -> None:
    app.jinja_env.globals.update(crm_cached=cached, crm_navbar_key=navbar_key)
