"""Saved list views (保存的视图, issue 8.4): named filters, sort and page size of a list page.

A view stores only the list's own URL arguments, so applying it is opening the list with them and
the list's row rules decide what it shows — a shared view never shows a colleague more than
their own rows. Sharing is with the owner's department (and team, where users have one), looked
up at read time, so moving a user between departments or teams changes what they see at once.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models.base import utcnow
from app.models.saved_view import SavedView, SavedViewPin
from app.models.user import CrmUser
from app.services import audit
from app.services.actor import Actor
from app.services.errors import Forbidden, Invalid, NotFound
from app.services.validation import FieldError, check_id, check_text

# The list arguments a view keeps: FAB filters, order column/direction, page size, chosen columns.
KEPT_ARG = re.compile(r"^(_flt_\d_[A-Za-z0-9_.]{1,64}|_oc_[A-Za-z0-9_]{1,64}|_od_[A-Za-z0-9_]{1,64}"
                      r"|psize_[A-Za-z0-9_]{1,64}|cols_[A-Za-z0-9_]{1,64})$")
MAX_ARGS = 40
MAX_VALUE = 200


def list_args(pairs: Any) -> list[list[str]]:
    """The (argument, value) pairs a view may store, in order; everything else is dropped."""
    out = []
    for arg, value in pairs or []:
        if KEPT_ARG.match(str(arg)) and len(str(value)) <= MAX_VALUE:
            out.append([str(arg), str(value)])
    return out[:MAX_ARGS]


def _sharing_groups(actor: Actor) -> tuple[int | None, int | None]:
    """The caller's department and team as stored now (not as when they signed in)."""
    me = db.session.get(CrmUser, actor.id) if actor.id is not None else None
    if me is None:
        return None, None
    return me.department_id, getattr(me, "team_id", None)


# The view's owner, as its own alias of ab_user (the caller's user may be joined too). Built once:
# an alias made per call copies the table's 16 columns on every list page.
_OWNER = aliased(CrmUser)


def _visible(actor: Actor) -> Any:
    owner = _OWNER
    department_id, team_id = _sharing_groups(actor)
    conds = [SavedView.user_id == (actor.id if actor.id is not None else -1)]
    if department_id is not None:
        conds.append(and_(SavedView.shared.is_(True), owner.department_id == department_id))
    if team_id is not None and hasattr(owner, "team_id"):
        conds.append(and_(SavedView.shared.is_(True), owner.team_id == team_id))
    return select(SavedView).join(owner, owner.id == SavedView.user_id).where(or_(*conds))


def get(view_id: Any, actor: Actor) -> SavedView:
    """A view the caller owns or that is shared with them; otherwise NotFound."""
    pk = check_id(view_id)
    view = db.session.execute(_visible(actor).where(SavedView.id == pk)).scalar_one_or_none() if pk else None
    if view is None:
        raise NotFound()
    return view


def _own(view_id: Any, actor: Actor) -> SavedView:
    view = get(view_id, actor)
    if view.user_id != actor.id:
        raise Forbidden(_("Only the owner can change a saved view."))
    return view


def save(actor: Actor, view_name: str, name: Any, pairs: Any, shared: bool = False) -> SavedView:
    """Save the list's current arguments under a name; the same name again replaces that view."""
    if actor.id is None:
        raise Forbidden()
    try:
        clean_name = check_text(name, 64, required=True)
    except FieldError as exc:
        raise Invalid({"name": str(exc)}) from None
    args = list_args(pairs)
    view = db.session.execute(select(SavedView).where(
        SavedView.user_id == actor.id, SavedView.view_name == view_name, SavedView.name == clean_name,
    )).scalar_one_or_none()
    creating = view is None
    if creating:
        view = SavedView(user_id=actor.id, view_name=view_name, name=clean_name, created_at=utcnow())
        db.session.add(view)
    view.query = json.dumps(args, ensure_ascii=False)
    view.shared = bool(shared) or (view.shared if not creating else False)
    view.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "create" if creating else "update", "saved_view", view.id,
                 {"after": {"view": view_name, "name": clean_name, "args": args, "shared": view.shared}})
    db.session.commit()
    return view


def args_of(view: SavedView) -> list[tuple[str, str]]:
    return [(a, v) for a, v in json.loads(view.query or "[]")]


def for_list(actor: Actor, view_name: str) -> list[SavedView]:
    """The caller's views of this list, then those shared with them, by name."""
    stmt = _visible(actor).where(SavedView.view_name == view_name)
    views = list(db.session.execute(stmt.order_by(SavedView.name)).scalars())
    return sorted(views, key=lambda v: (v.user_id != actor.id, v.name))


def pinned(actor: Actor) -> list[SavedView]:
    """The views the caller pinned to the home page that they can still see, in pin order."""
    stmt = (_visible(actor).join(SavedViewPin, and_(SavedViewPin.view_id == SavedView.id,
                                                    SavedViewPin.user_id == actor.id))
            .order_by(SavedViewPin.position, SavedView.id))
    return list(db.session.execute(stmt).scalars())


def pinned_ids(actor: Actor) -> set[int]:
    stmt = select(SavedViewPin.view_id).where(SavedViewPin.user_id == actor.id)
    return set(db.session.execute(stmt).scalars())


def set_pinned(view_id: Any, actor: Actor, on: bool = True) -> SavedView:
    """Pin (or unpin) a visible view to the caller's own home page."""
    view = get(view_id, actor)
    pin = db.session.get(SavedViewPin, (view.id, actor.id))
    if on and pin is None:
        last = db.session.execute(select(func.max(SavedViewPin.position))
                                  .where(SavedViewPin.user_id == actor.id)).scalar()
        db.session.add(SavedViewPin(view_id=view.id, user_id=actor.id, position=(last or 0) + 1,
                                    created_at=utcnow()))
    elif not on and pin is not None:
        db.session.delete(pin)
    db.session.commit()
    return view


def set_shared(view_id: Any, actor: Actor, on: bool = True) -> SavedView:
    view = _own(view_id, actor)
    if view.shared != bool(on):
        view.shared = bool(on)
        audit.record(actor, "share" if on else "unshare", "saved_view", view.id, {"name": view.name})
    db.session.commit()
    return view


def delete(view_id: Any, actor: Actor) -> None:
    view = _own(view_id, actor)
    db.session.execute(SavedViewPin.__table__.delete().where(SavedViewPin.view_id == view.id))
    audit.record(actor, "delete", "saved_view", view.id, {"before": {"name": view.name, "view": view.view_name}})
    db.session.delete(view)
    db.session.commit()
